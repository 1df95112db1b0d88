package io.visualsearch.objectstore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.config.Config;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.FaultyLink;
import io.visualsearch.stack.StackExtension;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;

@ExtendWith(StackExtension.class)
class ITObjectStore {

  ObjectStore store(EmbeddedStack stack, Map<String, String> overrides) {
    Map<String, String> env = new HashMap<>(stack.serviceEnvironment());
    env.putAll(overrides);
    Config config = ObjectStoreSettings.definition().parse(env);
    ObjectStore store = ObjectStore.fromConfig(config, false);
    store.start();
    return store;
  }

  static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void putGetListDelete(EmbeddedStack stack) {
    try (ObjectStore store = store(stack, Map.of())) {
      store.put("it/a/1.json", b("{\"n\":1}"), "application/json");
      store.put("it/a/2.json", b("{\"n\":2}"), "application/json");
      store.put("it/b/3.json", b("{}"), "application/json");
      StoredObject o = store.get("it/a/1.json").orElseThrow();
      assertArrayEquals(b("{\"n\":1}"), o.bytes());
      assertEquals("application/json", o.contentType());
      assertEquals(List.of("it/a/1.json", "it/a/2.json"), store.list("it/a/"));
      assertTrue(store.exists("it/b/3.json"));
      store.delete("it/b/3.json");
      assertFalse(store.exists("it/b/3.json"));
      assertTrue(store.get("it/b/3.json").isEmpty());
      assertTrue(store.check().ok());
    }
  }

  /** What lets a writer tell its own file from one rewritten since, without reading either. */
  @Test
  void aListingShowsTheETagAPutAnsweredUntilOtherBytesReplaceThem(EmbeddedStack stack) {
    try (ObjectStore store = store(stack, Map.of())) {
      String first = store.put("it/tags/a.json", b("{\"n\":1}"), "application/json");
      String other = store.put("it/tags/b.json", b("{\"n\":2}"), "application/json");
      assertFalse(first.isEmpty());
      assertNotEquals(first, other);
      assertEquals(Map.of("it/tags/a.json", first, "it/tags/b.json", other), listed(store, "it/tags/"));

      String changed = store.put("it/tags/a.json", b("{\"n\":3}"), "application/json");
      assertNotEquals(first, changed);
      assertEquals(changed, listed(store, "it/tags/").get("it/tags/a.json"));
    }
  }

  private static Map<String, String> listed(ObjectStore store, String prefix) {
    Map<String, String> out = new java.util.HashMap<>();
    store.forEachListed(prefix, o -> out.put(o.key(), o.etag()));
    return out;
  }

  @Test
  void foldersAreTheNamesDirectlyUnderAPrefix(EmbeddedStack stack) {
    try (ObjectStore store = store(stack, Map.of())) {
      for (String key : List.of("it/tree/x/1", "it/tree/y/2", "it/tree/y/deeper/3", "it/tree/file")) {
        store.put(key, b("."), "text/plain");
      }
      assertEquals(List.of("x", "y"), store.folders("it/tree/"));
      assertEquals(List.of("deeper"), store.folders("it/tree/y/"));
      assertEquals(List.of(), store.folders("it/none/"));
    }
  }

  @Test
  void filesStreamUpAndDownAndAMissingKeyDownloadsNothing(EmbeddedStack stack, @TempDir Path dir) throws Exception {
    byte[] big = new byte[3 * 1024 * 1024 + 17];
    new Random(3).nextBytes(big);
    Path up = Files.write(dir.resolve("up.bin"), big);
    Path down = Files.write(dir.resolve("down.bin"), b("stale copy of an older download"));
    try (ObjectStore store = store(stack, Map.of())) {
      store.put("it/files/big.bin", up, "application/octet-stream");
      assertTrue(store.download("it/files/big.bin", down));
      assertArrayEquals(big, Files.readAllBytes(down));
      assertFalse(store.download("it/files/missing.bin", dir.resolve("missing.bin")));
      assertFalse(Files.exists(dir.resolve("missing.bin")));
    }
  }

  /**
   * On a slow link, a call on a small object is cut off at the call timeout, while a large object or
   * a file transfer, taking several times that, runs to the end under the transfer timeout: shards
   * and their exact vectors are hundreds of megabytes to gigabytes, and the one-minute call limit
   * (20 s an attempt) failed such uploads and downloads on any slower network.
   */
  @Test
  void largeObjectsAndFilesOutlastTheCallTimeoutThatCutsOffSmallCalls(EmbeddedStack stack, @TempDir Path dir)
      throws Exception {
    byte[] small = new byte[4 * 1024 * 1024];
    new Random(4).nextBytes(small);
    byte[] large = new byte[ObjectStore.LARGE_OBJECT_BYTES + 1024 * 1024];
    new Random(5).nextBytes(large);
    Path up = Files.write(dir.resolve("up.bin"), large);
    Path down = dir.resolve("down.bin");
    // At most 3 MiB/s each way: the 4 MiB object needs over 1.3 s against a call timeout of 1 s,
    // each 9 MiB transfer about 3 s.
    URI s3 = URI.create(stack.serviceEnvironment().get("S3_ENDPOINT"));
    try (FaultyLink slow = new FaultyLink(s3.getHost(), s3.getPort(), 3 * 1024 * 1024);
        ObjectStore store = store(stack, Map.of("S3_ENDPOINT", slow.httpEndpoint(), "S3_CALL_TIMEOUT", "1s",
            "S3_ATTEMPT_TIMEOUT", "1s", "S3_TRANSFER_TIMEOUT", "60s"))) {
      store.put("it/slow/tiny.json", b("{}"), "application/json");
      assertArrayEquals(b("{}"), store.get("it/slow/tiny.json").orElseThrow().bytes());

      ObjectStoreException cut = assertThrows(ObjectStoreException.class,
          () -> store.put("it/slow/small.bin", small, "application/octet-stream"));
      assertTrue(cut.retriable(), "a timed-out call may succeed when retried: " + cut.getMessage());

      store.put("it/slow/large.bin", large, "application/octet-stream");
      assertTrue(store.download("it/slow/large.bin", down));
      assertArrayEquals(large, Files.readAllBytes(down));
      assertArrayEquals(large, store.get("it/slow/large.bin", large.length).orElseThrow().bytes());
      assertThrows(ObjectStoreException.class, () -> store.get("it/slow/large.bin"),
          "without its expected size a large object is read under the call timeout");

      store.put("it/slow/file.bin", up, "application/octet-stream");
      assertArrayEquals(large, store.get("it/slow/file.bin", large.length).orElseThrow().bytes());
    }
  }

  @Test
  void conditionalWritesLetExactlyOneWriterWin(EmbeddedStack stack) {
    try (ObjectStore store = store(stack, Map.of())) {
      assertTrue(store.putIfAbsent("it/pointer", b("v1"), "text/plain"));
      assertFalse(store.putIfAbsent("it/pointer", b("other"), "text/plain"), "create-only write must not overwrite");
      StoredObject v1 = store.get("it/pointer").orElseThrow();
      assertArrayEquals(b("v1"), v1.bytes());

      assertTrue(store.replaceIfUnchanged("it/pointer", b("v2"), "text/plain", v1.etag()));
      // A writer still holding v1's ETag lost the race and must not clobber v2.
      assertFalse(store.replaceIfUnchanged("it/pointer", b("v3"), "text/plain", v1.etag()));
      assertArrayEquals(b("v2"), store.get("it/pointer").orElseThrow().bytes());
    }
  }

  @Test
  void wrongCredentialsAndMissingBucketFailClearly(EmbeddedStack stack) {
    ObjectStore wrongKey = ObjectStore.fromConfig(ObjectStoreSettings.definition().parse(
        withOverride(stack, "S3_SECRET_KEY", "not-the-secret")), false);
    ObjectStoreException denied = assertThrows(ObjectStoreException.class, wrongKey::start);
    assertFalse(denied.retriable(), "bad credentials are not fixed by waiting");
    wrongKey.close();

    ObjectStore noBucket = ObjectStore.fromConfig(ObjectStoreSettings.definition().parse(
        withOverride(stack, "S3_BUCKET", "no-such-bucket")), false);
    ObjectStoreException missing = assertThrows(ObjectStoreException.class, noBucket::start);
    assertTrue(missing.getMessage().contains("no-such-bucket"), missing.getMessage());
    noBucket.close();
  }

  /**
   * A bucket deleted after start (or an endpoint that now reaches another store) answers every read
   * with 404 as a missing key does: reads must fail retriably and check() show it, not answer
   * "absent" (dead-lettered images, skipped publications, every picture downloaded again).
   */
  @Test
  void aBucketDeletedAfterStartFailsReadsRetriablyUntilItIsBack(EmbeddedStack stack, @TempDir Path dir)
      throws Exception {
    String vanishing = "it-vanishing-" + Long.toHexString(System.nanoTime());
    Map<String, String> env = withOverride(stack, "S3_BUCKET", vanishing);
    Config config = ObjectStoreSettings.definition().parse(env);
    try (ObjectStore store = ObjectStore.fromConfig(config, true);
        S3Client raw = ObjectStore.client(config)) {
      store.start();
      store.put("it/there.json", b("{}"), "application/json");
      assertTrue(store.get("it/missing.json").isEmpty());
      assertFalse(store.download("it/missing.json", dir.resolve("missing.bin")));

      raw.deleteObject(d -> d.bucket(vanishing).key("it/there.json"));
      raw.deleteBucket(d -> d.bucket(vanishing));

      // exists() first: its HEAD's 404 cannot tell, and no HeadBucket has vouched for the bucket yet.
      Map<String, Executable> calls = new LinkedHashMap<>();
      calls.put("exists of a key that was there", () -> store.exists("it/there.json"));
      calls.put("exists of a key never written", () -> store.exists("it/missing.json"));
      calls.put("get of a key that was there", () -> store.get("it/there.json"));
      calls.put("get of a key never written", () -> store.get("it/missing.json"));
      calls.put("download", () -> store.download("it/there.json", dir.resolve("there.bin")));
      calls.put("put", () -> store.put("it/new.json", b("{}"), "application/json"));
      calls.put("list", () -> store.list("it/"));
      for (var call : calls.entrySet()) {
        ObjectStoreException e = assertThrows(ObjectStoreException.class, call.getValue(), call.getKey());
        assertTrue(e.retriable(), call.getKey() + ": waiting for the bucket may help: " + e.getMessage());
        assertTrue(e.getMessage().contains("bucket " + vanishing + " does not exist (deleted, or S3_ENDPOINT/S3_BUCKET"
            + " point elsewhere)"), call.getKey() + ": " + e.getMessage());
      }
      assertFalse(store.check().ok());
      assertTrue(store.check().detail().contains("does not exist"), store.check().detail());

      raw.createBucket(c -> c.bucket(vanishing));
      assertFalse(store.exists("it/missing.json"));
      assertTrue(store.get("it/missing.json").isEmpty());
      assertFalse(store.download("it/missing.json", dir.resolve("missing.bin")));
      assertTrue(store.check().ok(), store.check().detail());
    } finally {
      try (S3Client raw = ObjectStore.client(config)) {
        raw.deleteBucket(d -> d.bucket(vanishing));
      } catch (RuntimeException ignored) {
        // already gone
      }
    }
  }

  static Map<String, String> withOverride(EmbeddedStack stack, String k, String v) {
    Map<String, String> env = new HashMap<>(stack.serviceEnvironment());
    env.put(k, v);
    return env;
  }
}
