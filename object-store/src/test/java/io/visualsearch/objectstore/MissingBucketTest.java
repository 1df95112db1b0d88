package io.visualsearch.objectstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadBucketRequest;
import software.amazon.awssdk.services.s3.model.HeadBucketResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * A 404 means a missing key or a missing bucket; only the first is "absent". Over a stand-in
 * client answering as the SDK does against S3: GetObject's 404 names its error code, HeadObject's
 * has no body (the SDK reports NoSuchKey whatever the cause), HeadBucket's is NoSuchBucket.
 */
class MissingBucketTest {

  /** The stand-in server's state: whether the bucket exists, and the HeadBucket calls made. */
  static final class FakeS3 {
    volatile boolean bucketExists = true;
    /** GetObject's 404 body: true names its code, false has none (as some gateways answer). */
    volatile boolean getNamesCode = true;
    final AtomicInteger headBuckets = new AtomicInteger();

    S3Client client() {
      InvocationHandler h = (proxy, method, args) -> {
        String name = method.getName();
        if (name.equals("headBucket") && args[0] instanceof HeadBucketRequest) {
          headBuckets.incrementAndGet();
          if (!bucketExists) {
            throw NoSuchBucketException.builder().statusCode(404)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode("NoSuchBucket").build()).build();
          }
          return HeadBucketResponse.builder().build();
        }
        if (name.equals("headObject") && args[0] instanceof HeadObjectRequest) {
          throw NoSuchKeyException.builder().statusCode(404)
              .awsErrorDetails(AwsErrorDetails.builder().errorCode("NoSuchKey").build()).build();
        }
        if (name.equals("getObject") && args.length == 2 && args[0] instanceof GetObjectRequest
            && args[1] instanceof ResponseTransformer) {
          if (!getNamesCode) {
            throw S3Exception.builder().statusCode(404).build();
          }
          throw bucketExists
              ? NoSuchKeyException.builder().statusCode(404)
                  .awsErrorDetails(AwsErrorDetails.builder().errorCode("NoSuchKey").build()).build()
              : NoSuchBucketException.builder().statusCode(404)
                  .awsErrorDetails(AwsErrorDetails.builder().errorCode("NoSuchBucket").build()).build();
        }
        if (name.equals("close")) {
          return null;
        }
        if (name.equals("serviceName")) {
          return "s3";
        }
        if (method.isDefault()) {
          return InvocationHandler.invokeDefault(proxy, method, args);
        }
        throw new UnsupportedOperationException(name);
      };
      return (S3Client) Proxy.newProxyInstance(S3Client.class.getClassLoader(), new Class<?>[] {S3Client.class}, h);
    }
  }

  final FakeS3 fake = new FakeS3();
  final AtomicLong now = new AtomicLong(1_000_000_000L);

  ObjectStore started() {
    S3Client client = fake.client();
    ObjectStore store = new ObjectStore(t -> client, "the-bucket", false, Duration.ofMinutes(1), now::get);
    store.start();
    fake.headBuckets.set(0);
    return store;
  }

  void advance(Duration d) {
    now.addAndGet(d.toNanos());
  }

  static void assertBucketMissing(ObjectStoreException e) {
    assertTrue(e.retriable(), "a vanished bucket is an outage to wait out: " + e.getMessage());
    assertTrue(e.getMessage().contains("bucket the-bucket does not exist (deleted, or S3_ENDPOINT/S3_BUCKET point"
        + " elsewhere)"), e.getMessage());
  }

  @Test
  void aMissingKeyIsAbsentWithOneHeadBucketAnIntervalHoweverManyAreAsked() {
    try (ObjectStore store = started()) {
      for (int i = 0; i < 50; i++) {
        assertFalse(store.exists("images/" + i));
      }
      assertEquals(1, fake.headBuckets.get(), "one confirmation serves every missing key of the interval");
      advance(ObjectStore.BUCKET_CONFIRMATION.minusMillis(1));
      assertFalse(store.exists("images/x"));
      assertEquals(1, fake.headBuckets.get());
      advance(Duration.ofMillis(1));
      assertFalse(store.exists("images/y"));
      assertFalse(store.exists("images/z"));
      assertEquals(2, fake.headBuckets.get(), "confirmed again once the interval is over");
      assertTrue(store.check().ok());
    }
  }

  @Test
  void aGetWhose404NamesTheMissingKeyNeedsNoHeadBucket() {
    try (ObjectStore store = started()) {
      assertTrue(store.get("similar/t/1.json").isEmpty());
      assertEquals(0, fake.headBuckets.get());
    }
  }

  @Test
  void aGetWhose404NamesNoCodeIsCheckedAgainstTheBucket() {
    fake.getNamesCode = false;
    try (ObjectStore store = started()) {
      assertTrue(store.get("similar/t/1.json").isEmpty());
      assertTrue(store.get("similar/t/2.json").isEmpty());
      assertEquals(1, fake.headBuckets.get());
      fake.bucketExists = false;
      advance(ObjectStore.BUCKET_CONFIRMATION);
      assertBucketMissing(assertThrows(ObjectStoreException.class, () -> store.get("similar/t/3.json")));
    }
  }

  @Test
  void aVanishedBucketFailsRetriablyEveryReadAndShowsInCheck(@TempDir Path dir) throws Exception {
    try (ObjectStore store = started()) {
      fake.bucketExists = false;
      assertBucketMissing(assertThrows(ObjectStoreException.class, () -> store.exists("images/a")));
      assertFalse(store.check().ok(), "check() shows the outage");
      assertTrue(store.check().toString().contains("does not exist"), store.check().toString());
      assertBucketMissing(assertThrows(ObjectStoreException.class, () -> store.get("indexes/t/CURRENT")));
      Path file = Files.writeString(dir.resolve("shard.bin"), "old");
      assertBucketMissing(assertThrows(ObjectStoreException.class, () -> store.download("indexes/t/1/shard", file)));
      assertFalse(store.check().ok());

      // Back: reads answer as before, and check() recovers with the first success.
      fake.bucketExists = true;
      assertFalse(store.exists("images/a"));
      assertTrue(store.check().ok());
    }
  }

  @Test
  void aBucketFoundGoneIsNotVouchedForByAnEarlierConfirmation() {
    try (ObjectStore store = started()) {
      assertFalse(store.exists("images/a"));
      fake.bucketExists = false;
      // A GetObject names the missing bucket: the confirmation of a moment ago no longer holds.
      assertBucketMissing(assertThrows(ObjectStoreException.class, () -> store.get("images/b")));
      assertBucketMissing(assertThrows(ObjectStoreException.class, () -> store.exists("images/c")));
    }
  }
}
