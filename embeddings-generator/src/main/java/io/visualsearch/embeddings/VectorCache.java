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
  private final Map<String, float[]> recent;
  private final Map<String, CompletableFuture<float[]>> inFlight = new ConcurrentHashMap<>();

  VectorCache(ObjectStore store, String variant, int maxEntries) {
    this.store = store;
    this.variant = variant;
    this.recent = java.util.Collections.synchronizedMap(new LinkedHashMap<>(1024, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, float[]> eldest) {
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
      Optional<float[]> known = lookup(key);
      float[] values = known.isPresent() ? known.get() : embedder.embed();
      if (known.isEmpty()) {
        recent.put(key, values);
        store.putIfAbsent(key, encode(values), "application/octet-stream");
      }
      mine.complete(values);
      return new Vector(values, known.isEmpty());
    } catch (Throwable t) {
      mine.completeExceptionally(t);
      throw t;
    } finally {
      inFlight.remove(key, mine);
    }
  }

  private Optional<float[]> lookup(String key) {
    float[] v = recent.get(key);
    if (v != null) {
      return Optional.of(v);
    }
    Optional<float[]> stored = store.get(key).map(o -> decode(o.bytes()));
    stored.ifPresent(f -> recent.put(key, f));
    return stored;
  }

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
