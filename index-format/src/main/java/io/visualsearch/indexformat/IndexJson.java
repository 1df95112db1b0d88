package io.visualsearch.indexformat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;

/** Reads and writes manifests and pointers; unknown fields are ignored for forward compatibility. */
public final class IndexJson {

  private final ObjectMapper mapper = new ObjectMapper()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
      .configure(SerializationFeature.INDENT_OUTPUT, true);

  public byte[] write(Object value) {
    try {
      return mapper.writeValueAsBytes(value);
    } catch (IOException e) {
      throw new IllegalStateException("cannot serialise " + value.getClass().getSimpleName(), e);
    }
  }

  /**
   * Refuses a manifest missing what its readers rely on: they index into it without checking, and
   * the builder announces it; a document that is JSON {@code null} included.
   */
  public IndexManifest manifest(byte[] json) throws CorruptIndexException {
    IndexManifest m = read(json, IndexManifest.class);
    if (m.format() != IndexManifest.FORMAT) {
      throw new CorruptIndexException("unsupported manifest format " + m.format());
    }
    if (m.shards() == null || m.dimension() <= 0 || m.tenant() == null || m.version() == null) {
      throw new CorruptIndexException("manifest lacks shards, dimension, tenant or version");
    }
    named(m.tenant(), m.version());
    if (m.shards().contains(null)) {
      throw new CorruptIndexException("manifest of " + m.tenant() + "/" + m.version() + " has an empty shard entry");
    }
    if (m.modelName() == null || m.modelName().isBlank() || m.modelVersion() <= 0) {
      throw new CorruptIndexException("manifest of " + m.tenant() + "/" + m.version() + " names no model and version");
    }
    if (m.skuMap() == null) {
      throw new CorruptIndexException("manifest of " + m.tenant() + "/" + m.version() + " has no sku_map");
    }
    if (m.embeddingsOffsets() == null || m.embeddingsOffsets().containsKey(null)
        || m.embeddingsOffsets().containsValue(null)) {
      throw new CorruptIndexException("manifest of " + m.tenant() + "/" + m.version()
          + " does not say which embeddings offsets it covers");
    }
    return m;
  }

  /** Refuses a pointer that does not name a version and its manifest: there is nothing to serve. */
  public CurrentPointer pointer(byte[] json) throws CorruptIndexException {
    CurrentPointer p = read(json, CurrentPointer.class);
    if (p.manifestKey() == null || p.manifestKey().isBlank()) {
      throw new CorruptIndexException("CURRENT pointer names no manifest");
    }
    try {
      IndexLayout.validVersion(p.version());
    } catch (IllegalArgumentException e) {
      throw new CorruptIndexException("CURRENT pointer: " + e.getMessage());
    }
    return p;
  }

  private static void named(String tenant, String version) throws CorruptIndexException {
    try {
      IndexLayout.validTenant(tenant);
      IndexLayout.validVersion(version);
    } catch (IllegalArgumentException e) {
      throw new CorruptIndexException("manifest: " + e.getMessage());
    }
  }

  private <T> T read(byte[] json, Class<T> type) throws CorruptIndexException {
    try {
      T value = mapper.readValue(json, type);
      if (value == null) {
        throw new CorruptIndexException(type.getSimpleName() + " is null");
      }
      return value;
    } catch (IOException e) {
      throw new CorruptIndexException("unreadable " + type.getSimpleName() + ": " + e.getMessage());
    }
  }
}
