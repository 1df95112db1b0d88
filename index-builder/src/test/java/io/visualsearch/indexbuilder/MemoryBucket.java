package io.visualsearch.indexbuilder;

import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ScriptedS3;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectResponse;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A bucket in memory behind a real {@link ObjectStore}: writes (conditional ones with their ETags),
 * reads, listings by prefix and deletes, for a build's logic in a unit test, not for the store.
 */
final class MemoryBucket implements AutoCloseable {

  private record Stored(byte[] bytes, String etag) {}

  private final Map<String, Stored> objects = new ConcurrentSkipListMap<>();
  private final AtomicLong writes = new AtomicLong();
  final ObjectStore store = ScriptedS3.started("memory", (client, method, args) -> switch (method) {
    case "putObject" -> put((PutObjectRequest) args[0], (RequestBody) args[1]);
    case "getObjectAsBytes" -> get(args[0]);
    case "deleteObject" -> delete(args[0]);
    case "listObjectsV2" -> list((ListObjectsV2Request) args[0]);
    default -> throw new UnsupportedOperationException(method);
  });

  private synchronized PutObjectResponse put(PutObjectRequest r, RequestBody body) throws IOException {
    Stored now = objects.get(r.key());
    boolean refused = r.ifNoneMatch() != null ? now != null
        : r.ifMatch() != null && (now == null || !now.etag().equals(r.ifMatch()));
    if (refused) {
      throw S3Exception.builder().statusCode(412).message("precondition failed").build();
    }
    byte[] bytes;
    try (InputStream in = body.contentStreamProvider().newStream()) {
      bytes = in.readAllBytes();
    }
    String etag = "\"" + writes.incrementAndGet() + "\"";
    objects.put(r.key(), new Stored(bytes, etag));
    return PutObjectResponse.builder().eTag(etag).build();
  }

  @SuppressWarnings("unchecked")
  private ResponseBytes<GetObjectResponse> get(Object request) {
    GetObjectRequest.Builder b = GetObjectRequest.builder();
    ((Consumer<GetObjectRequest.Builder>) request).accept(b);
    Stored s = objects.get(b.build().key());
    if (s == null) {
      throw NoSuchKeyException.builder().statusCode(404).message("no such key")
          .awsErrorDetails(AwsErrorDetails.builder().errorCode("NoSuchKey").build()).build();
    }
    return ResponseBytes.fromByteArray(GetObjectResponse.builder().eTag(s.etag()).build(), s.bytes());
  }

  @SuppressWarnings("unchecked")
  private DeleteObjectResponse delete(Object request) {
    DeleteObjectRequest.Builder b = DeleteObjectRequest.builder();
    ((Consumer<DeleteObjectRequest.Builder>) request).accept(b);
    objects.remove(b.build().key());
    return DeleteObjectResponse.builder().build();
  }

  private ListObjectsV2Response list(ListObjectsV2Request r) {
    List<S3Object> under = objects.keySet().stream().filter(k -> k.startsWith(r.prefix()))
        .map(k -> S3Object.builder().key(k).build()).toList();
    return ListObjectsV2Response.builder().isTruncated(false).contents(under).build();
  }

  /** The object's bytes, or null. */
  byte[] bytes(String key) {
    Stored s = objects.get(key);
    return s == null ? null : s.bytes();
  }

  @Override
  public void close() {
    store.close();
  }
}
