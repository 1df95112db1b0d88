package io.visualsearch.embeddings;

import io.visualsearch.objectstore.ObjectStore;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Vectors already computed, per (model, version, variant, image sha256): an LRU in memory in front
 * of the object store ({@code embeddings/<model>/<version>/<variant>/<sha256>.f32}, little-endian
 * float32), so an image shared by many products, re-sent after a restart, or replayed is embedded
 * once. The variant (signature, output, image shaping; {@code ModelClient.vectorVariant}) keeps a
 * generator reconfigured to another signature from reading the vectors of the previous one.
 */
final class VectorCache {

  private final ObjectStore store;
  private final String variant;
  private final Map<String, float[]> recent;

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

  Optional<float[]> get(String model, long version, String sha256) {
    String key = key(model, version, variant, sha256);
    float[] v = recent.get(key);
    if (v != null) {
      return Optional.of(v);
    }
    Optional<float[]> stored = store.get(key).map(o -> decode(o.bytes()));
    stored.ifPresent(f -> recent.put(key, f));
    return stored;
  }

  void put(String model, long version, String sha256, float[] vector) {
    String key = key(model, version, variant, sha256);
    recent.put(key, vector);
    store.putIfAbsent(key, encode(vector), "application/octet-stream");
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
