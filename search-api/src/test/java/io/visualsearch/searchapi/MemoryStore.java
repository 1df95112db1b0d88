package io.visualsearch.searchapi;

import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ScriptedS3;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

/** An object store that answers reads from a map the test fills: for logic above the store, not for the store. */
public final class MemoryStore {

  public final Map<String, byte[]> objects = new ConcurrentHashMap<>();
  @SuppressWarnings("unchecked")
  public final ObjectStore store = ScriptedS3.started("memory", (client, method, args) -> {
    if (!method.equals("getObjectAsBytes")) {
      throw new UnsupportedOperationException(method);
    }
    GetObjectRequest.Builder request = GetObjectRequest.builder();
    ((Consumer<GetObjectRequest.Builder>) args[0]).accept(request);
    byte[] bytes = objects.get(request.build().key());
    if (bytes == null) {
      throw NoSuchKeyException.builder().statusCode(404).message("no such key").build();
    }
    return ResponseBytes.fromByteArray(GetObjectResponse.builder().eTag("\"e\"").build(), bytes);
  });
}
