package io.visualsearch.objectstore;

import io.visualsearch.config.Config;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.function.Predicate;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/**
 * A real store whose writes fail, as a dropped connection would, while {@code fails} says so: other
 * services' tests use it (test-jar) to crash a multi-object write part-way on the real S3 server.
 */
public final class FailingPutsStore {
  private FailingPutsStore() {}

  /** A started store over {@code config}'s bucket; a put for which {@code fails} is true throws. */
  public static ObjectStore over(Config config, Predicate<PutObjectRequest> fails) {
    S3Client real = ObjectStore.client(config);
    S3Client s3 = (S3Client) Proxy.newProxyInstance(S3Client.class.getClassLoader(), new Class<?>[] {S3Client.class},
        (proxy, method, args) -> {
          if (method.getName().equals("putObject") && args[0] instanceof PutObjectRequest put && fails.test(put)) {
            throw SdkClientException.create("connection reset (injected)");
          }
          try {
            return method.invoke(real, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
    ObjectStore store = new ObjectStore(timeouts -> s3, config.get(ObjectStoreSettings.BUCKET), true, Duration.ofMinutes(1));
    store.start();
    return store;
  }
}
