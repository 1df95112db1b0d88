package io.visualsearch.responseconsumer;

import io.visualsearch.objectstore.ObjectStore;
import java.lang.reflect.Proxy;
import java.time.Duration;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadBucketResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * An object store that answers 403 to every call after its start: a failure the store itself
 * classes as not retriable (an expired credential, a bucket policy changed under us).
 */
final class DeniedStore {

  private DeniedStore() {}

  static ObjectStore started() {
    S3Client s3 = (S3Client) Proxy.newProxyInstance(S3Client.class.getClassLoader(), new Class<?>[] {S3Client.class},
        (proxy, method, args) -> switch (method.getName()) {
          case "headBucket" -> HeadBucketResponse.builder().build();
          case "serviceName" -> "s3";
          case "close" -> null;
          default -> throw S3Exception.builder().statusCode(403).message("Access Denied").build();
        });
    ObjectStore store = new ObjectStore(timeouts -> s3, "denied", false, Duration.ofMinutes(1));
    store.start();
    return store;
  }
}
