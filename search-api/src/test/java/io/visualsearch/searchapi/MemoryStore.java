package io.visualsearch.searchapi;

import io.visualsearch.objectstore.ObjectStore;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadBucketResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

/** An object store that answers reads from a map the test fills: for logic above the store, not for the store. */
public final class MemoryStore {

  public final Map<String, byte[]> objects = new ConcurrentHashMap<>();
  public final ObjectStore store;

  @SuppressWarnings("unchecked")
  public MemoryStore() {
    S3Client s3 = (S3Client) Proxy.newProxyInstance(S3Client.class.getClassLoader(), new Class<?>[] {S3Client.class},
        (proxy, method, args) -> switch (method.getName()) {
          case "headBucket" -> HeadBucketResponse.builder().build();
          case "serviceName" -> "s3";
          case "close" -> null;
          case "getObjectAsBytes" -> {
            GetObjectRequest.Builder request = GetObjectRequest.builder();
            ((Consumer<GetObjectRequest.Builder>) args[0]).accept(request);
            byte[] bytes = objects.get(request.build().key());
            if (bytes == null) {
              throw NoSuchKeyException.builder().statusCode(404).message("no such key").build();
            }
            yield ResponseBytes.fromByteArray(GetObjectResponse.builder().eTag("\"e\"").build(), bytes);
          }
          default -> throw new UnsupportedOperationException(method.getName());
        });
    store = new ObjectStore(timeouts -> s3, "memory", false, Duration.ofMinutes(1));
    store.start();
  }
}
