package io.visualsearch.imageindexer;

import io.visualsearch.objectstore.ObjectStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectResponse;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadBucketResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * An {@link ObjectStore} over a map, for unit tests of the handler: just the calls it makes (get,
 * head, put, create-only put, delete), answered the way S3 answers them.
 */
final class MemoryObjectStore {

  private MemoryObjectStore() {}

  static ObjectStore started() {
    Map<String, byte[]> objects = new ConcurrentHashMap<>();
    Map<String, Instant> written = new ConcurrentHashMap<>();
    InvocationHandler s3 = (proxy, method, args) -> {
      if (args != null && args.length > 0 && args[0] instanceof Consumer) {
        // The SDK's builder-lambda overloads build the request and call the overload below.
        return InvocationHandler.invokeDefault(proxy, method, args);
      }
      return switch (method.getName()) {
        case "headBucket" -> HeadBucketResponse.builder().build();
        case "serviceName" -> "s3";
        case "close" -> null;
        case "getObjectAsBytes" -> {
          byte[] bytes = present(objects, ((GetObjectRequest) args[0]).key());
          yield ResponseBytes.fromByteArray(GetObjectResponse.builder().eTag("\"m\"").build(), bytes);
        }
        case "headObject" -> {
          String key = ((HeadObjectRequest) args[0]).key();
          present(objects, key);
          yield HeadObjectResponse.builder().lastModified(written.get(key)).build();
        }
        case "putObject" -> {
          PutObjectRequest put = (PutObjectRequest) args[0];
          byte[] bytes = read((RequestBody) args[1]);
          if ("*".equals(put.ifNoneMatch())) {
            if (objects.putIfAbsent(put.key(), bytes) != null) {
              throw S3Exception.builder().statusCode(412).message("PreconditionFailed").build();
            }
          } else {
            objects.put(put.key(), bytes);
          }
          written.put(put.key(), Instant.now());
          yield PutObjectResponse.builder().build();
        }
        case "deleteObject" -> {
          objects.remove(((DeleteObjectRequest) args[0]).key());
          yield DeleteObjectResponse.builder().build();
        }
        default -> throw new UnsupportedOperationException("MemoryObjectStore: " + method);
      };
    };
    S3Client client = (S3Client) Proxy.newProxyInstance(S3Client.class.getClassLoader(),
        new Class<?>[] {S3Client.class}, s3);
    ObjectStore store = new ObjectStore(timeouts -> client, "memory", false, Duration.ofMinutes(1));
    store.start();
    return store;
  }

  private static byte[] present(Map<String, byte[]> objects, String key) {
    byte[] bytes = objects.get(key);
    if (bytes == null) {
      throw NoSuchKeyException.builder().statusCode(404).message("NoSuchKey " + key).build();
    }
    return bytes;
  }

  private static byte[] read(RequestBody body) {
    try (InputStream in = body.contentStreamProvider().newStream()) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
