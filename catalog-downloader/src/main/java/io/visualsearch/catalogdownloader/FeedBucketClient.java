package io.visualsearch.catalogdownloader;

import io.visualsearch.config.Config;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The S3 client that feeds at {@code s3://} locations are read with: one for every feed bucket (the
 * bucket is each request's own), made at the first such feed and closed with the service. Its check
 * is always OK: a feed bucket that cannot be read fails that tenant's sync, with the reason in its
 * report, and must not take the downloader out of service for every other tenant.
 */
final class FeedBucketClient implements Component {

  private final Config config;
  private S3Client client;
  private boolean closed;

  FeedBucketClient(Config config) {
    this.config = config;
  }

  @Override
  public String name() {
    return "feed-bucket-client";
  }

  /** The client, made on first use; any bucket. */
  synchronized S3Client forBucket(String bucket) {
    if (closed) {
      throw new IllegalStateException("stopping: the feed bucket client is closed");
    }
    if (client == null) {
      client = ObjectStore.client(config);
    }
    return client;
  }

  @Override
  public CheckResult check() {
    return CheckResult.OK;
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (client != null) {
      client.close();
    }
  }
}
