package io.visualsearch.objectstore;

import java.lang.reflect.Proxy;
import java.time.Duration;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadBucketResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.paginators.ListObjectsV2Iterable;

/**
 * A started {@link ObjectStore} over an S3 client whose answers a test scripts, for logic above
 * the store (a stalled read, a throttled listing, a refused write), not for the store itself:
 * services' tests use it (test-jar). The bucket exists and the client closes; a listing's pages
 * are asked of the script's {@code listObjectsV2}; every other call is the script's.
 */
public final class ScriptedS3 {

  /** Answers one call of the S3 client: return its response, or throw as the store would. */
  @FunctionalInterface
  public interface Script {
    Object answer(S3Client client, String method, Object[] args) throws Throwable;
  }

  private ScriptedS3() {}

  public static ObjectStore started(String bucket, Script script) {
    S3Client s3 = (S3Client) Proxy.newProxyInstance(S3Client.class.getClassLoader(), new Class<?>[] {S3Client.class},
        (proxy, method, args) -> switch (method.getName()) {
          case "headBucket" -> HeadBucketResponse.builder().build();
          case "serviceName" -> "s3";
          case "close" -> null;
          case "listObjectsV2Paginator" -> new ListObjectsV2Iterable((S3Client) proxy, (ListObjectsV2Request) args[0]);
          default -> script.answer((S3Client) proxy, method.getName(), args);
        });
    ObjectStore store = new ObjectStore(timeouts -> s3, bucket, false, Duration.ofMinutes(1));
    store.start();
    return store;
  }
}
