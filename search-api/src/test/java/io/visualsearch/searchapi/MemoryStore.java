package io.visualsearch.searchapi;

import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ScriptedS3;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

/** An object store that answers reads (and folder listings) from a map the test fills: for logic above the store, not for the store. */
public final class MemoryStore {

  public final Map<String, byte[]> objects = new ConcurrentHashMap<>();
  /** Reads of a key under one of these prefixes wait for its latch: a transfer that takes its time. */
  public final Map<String, java.util.concurrent.CountDownLatch> held = new ConcurrentHashMap<>();
  /** Reads of a key under one of these prefixes throw the Error (a load running out of memory, say). */
  public final Map<String, Error> errors = new ConcurrentHashMap<>();
  /** Reads a key has had (answered or waiting). */
  public final Map<String, java.util.concurrent.atomic.AtomicInteger> reads = new ConcurrentHashMap<>();
  @SuppressWarnings("unchecked")
  public final ObjectStore store = ScriptedS3.started("memory", (client, method, args) -> {
    if (method.equals("listObjectsV2")) {
      return folders((ListObjectsV2Request) args[0]);
    }
    if (!method.equals("getObjectAsBytes")) {
      throw new UnsupportedOperationException(method);
    }
    GetObjectRequest.Builder request = GetObjectRequest.builder();
    ((Consumer<GetObjectRequest.Builder>) args[0]).accept(request);
    String key = request.build().key();
    reads.computeIfAbsent(key, k -> new java.util.concurrent.atomic.AtomicInteger()).incrementAndGet();
    for (Map.Entry<String, Error> error : errors.entrySet()) {
      if (key.startsWith(error.getKey())) {
        throw error.getValue();
      }
    }
    for (Map.Entry<String, java.util.concurrent.CountDownLatch> hold : held.entrySet()) {
      if (key.startsWith(hold.getKey())) {
        hold.getValue().await();
      }
    }
    byte[] bytes = objects.get(key);
    if (bytes == null) {
      throw NoSuchKeyException.builder().statusCode(404).message("no such key").build();
    }
    return ResponseBytes.fromByteArray(GetObjectResponse.builder().eTag("\"e\"").build(), bytes);
  });

  /** A listing by delimiter '/' only (the store's folders: the tenants under indexes/), in one page. */
  private ListObjectsV2Response folders(ListObjectsV2Request request) {
    if (!"/".equals(request.delimiter())) {
      throw new UnsupportedOperationException("listing without the '/' delimiter");
    }
    java.util.SortedSet<String> prefixes = new java.util.TreeSet<>();
    for (String key : objects.keySet()) {
      if (key.startsWith(request.prefix())) {
        int slash = key.indexOf('/', request.prefix().length());
        if (slash >= 0) {
          prefixes.add(key.substring(0, slash + 1));
        }
      }
    }
    return ListObjectsV2Response.builder().isTruncated(false)
        .commonPrefixes(prefixes.stream().map(p -> CommonPrefix.builder().prefix(p).build()).toList()).build();
  }
}
