package io.visualsearch.embeddings;

import io.visualsearch.objectstore.ObjectStore;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;

/**
 * Vectors already computed, per (model, version, variant, image sha256): an LRU in memory in front
 * of the object store ({@code embeddings/<model>/<version>/<variant>/<sha256>.f32}, little-endian
 * float32), so an image shared by many products, re-sent after a restart, or replayed is embedded
 * once. The variant (signature, output, image shaping; {@code ModelClient.vectorVariant}) keeps a
 * generator reconfigured to another signature from reading the vectors of the previous one.
 *
 * <p>Records of different keys are handled concurrently, and catalog variants often share one
 * photo: a lookup that misses while another record is already embedding the same image waits for
 * that vector instead of asking the model server a second time.
 *
 * <p>A vector whose write to the store failed stays in memory marked unwritten: the record's retry
 * writes it without asking the model again, and only then is it answered from memory like any other.
 */
final class VectorCache {

  /** Computes a vector the cache does not have. */
  interface Embedder {
    float[] embed() throws Exception;
  }

  /** A vector, and whether this lookup computed it (false: memory, the store or another record). */
  record Vector(float[] values, boolean computed) {}

  private final ObjectStore store;
  private final String variant;
  private final Map<String, Remembered> recent;
  private final Map<String, CompletableFuture<float[]>> inFlight = new ConcurrentHashMap<>();

  VectorCache(ObjectStore store, String variant, int maxEntries) {
    this.store = store;
    this.variant = variant;
    this.recent = java.util.Collections.synchronizedMap(new LinkedHashMap<>(1024, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Remembered> eldest) {
        return size() > maxEntries;
      }
    });
  }

  static String key(String model, long version, String variant, String sha256) {
    return "embeddings/" + model + "/" + version + "/" + variant + "/" + sha256 + ".f32";
  }

  /**
   * The image's vector for the model version: remembered, stored, being computed by another
   * record (waited for, its failure shared), or computed by {@code embedder} and stored.
   */
  Vector get(String model, long version, String sha256, Embedder embedder) throws Exception {
    String key = key(model, version, variant, sha256);
    CompletableFuture<float[]> mine = new CompletableFuture<>();
    CompletableFuture<float[]> running = inFlight.putIfAbsent(key, mine);
    if (running != null) {
      try {
        return new Vector(running.get(), false);
      } catch (ExecutionException e) {
        throw e.getCause() instanceof Exception cause ? cause : e;
      }
    }
    try {
      Optional<Remembered> known = lookup(key);
      Remembered r = known.isPresent() ? known.get() : new Remembered(embedder.embed(), false);
      if (!r.written()) {
        // Remembered before the write, so a failed write costs the retry a PUT, not a model call.
        recent.put(key, r);
        store.putIfAbsent(key, encode(r.values()), "application/octet-stream");
        recent.put(key, new Remembered(r.values(), true));
      }
      mine.complete(r.values());
      return new Vector(r.values(), known.isEmpty());
    } catch (Throwable t) {
      mine.completeExceptionally(t);
      throw t;
    } finally {
      inFlight.remove(key, mine);
    }
  }

  private Optional<Remembered> lookup(String key) {
    Remembered r = recent.get(key);
    if (r != null) {
      return Optional.of(r);
    }
    Optional<Remembered> stored = store.get(key).map(o -> new Remembered(decode(o.bytes()), true));
    stored.ifPresent(f -> recent.put(key, f));
    return stored;
  }

  /** A vector in memory, and whether the store has it (false: computed, its write failed). */
  private record Remembered(float[] values, boolean written) {}

  static byte[] encode(float[] v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(v);
    return b.array();
  }

  static float[] decode(byte[] bytes) {
    float[] v = new float[bytes.length / 4];
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
    return v;
  }
}
