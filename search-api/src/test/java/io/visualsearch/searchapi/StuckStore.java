package io.visualsearch.searchapi;

import io.visualsearch.objectstore.ObjectStore;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadBucketResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.paginators.ListObjectsV2Iterable;

/**
 * An object store whose reads hang until released, then find nothing: what a store stalled on a
 * long transfer looks like to its callers. Listing answers at once, with nothing.
 */
public final class StuckStore {

  public final CountDownLatch answers = new CountDownLatch(1);
  /** Reads that reached the store (waiting now, or answered after the release). */
  public final AtomicInteger reads = new AtomicInteger();
  public final ObjectStore store;

  public StuckStore() {
    S3Client s3 = (S3Client) Proxy.newProxyInstance(S3Client.class.getClassLoader(), new Class<?>[] {S3Client.class},
        (proxy, method, args) -> switch (method.getName()) {
          case "headBucket" -> HeadBucketResponse.builder().build();
          case "serviceName" -> "s3";
          case "close" -> null;
          case "listObjectsV2Paginator" -> new ListObjectsV2Iterable((S3Client) proxy, (ListObjectsV2Request) args[0]);
          case "listObjectsV2" -> ListObjectsV2Response.builder().build();
          default -> {
            reads.incrementAndGet();
            answers.await();
            throw NoSuchKeyException.builder().statusCode(404)
                .message("no such key").build();
          }
        });
    store = new ObjectStore(timeouts -> s3, "stuck", false, Duration.ofMinutes(1));
    store.start();
  }
}
