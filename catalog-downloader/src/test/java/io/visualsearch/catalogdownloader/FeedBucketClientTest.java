package io.visualsearch.catalogdownloader;

import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.visualsearch.objectstore.ObjectStoreSettings;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FeedBucketClientTest {

  /** A client per feed bucket, never closed, each with its own connection pool: one serves them all. */
  @Test
  void everyFeedBucketIsReadWithOneClientClosedWithTheService() {
    FeedBucketClient feeds = new FeedBucketClient(ObjectStoreSettings.definition().parse(Map.of(
        "S3_BUCKET", "visual-search", "S3_ENDPOINT", "http://127.0.0.1:1", "S3_ACCESS_KEY", "a", "S3_SECRET_KEY", "b")));
    assertSame(feeds.forBucket("acme-feeds"), feeds.forBucket("globex-feeds"));
    feeds.close();
    assertThrows(IllegalStateException.class, () -> feeds.forBucket("acme-feeds"));
  }
}
