package io.visualsearch.indexformat;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.util.List;
import java.util.Set;

/**
 * Reads and writes manifests and pointers; unknown fields are ignored for forward compatibility,
 * except that a manifest's {@code required_features} must all be known here.
 */
public final class IndexJson {

  /**
   * The features of {@link IndexManifest#requiredFeatures()} this reader honours. A name joins
   * only with the reader code that honours it: a reader rolled back past it must refuse the version
   * (and keep serving its previous one), not search it as if the field were absent.
   */
  private static final Set<String> READER_FEATURES =
      Set.of(IndexManifest.FEATURE_SEARCH_PARAMETERS, IndexManifest.FEATURE_EXACT_VECTORS);

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
    // Before the other checks: a later writer's feature may well change what they look at.
    List<String> required = read(json, Requirements.class).requiredFeatures();
    if (required != null) {
      for (String feature : required) {
        if (feature == null || !READER_FEATURES.contains(feature)) {
          throw new CorruptIndexException("index version " + m.version() + " of tenant " + m.tenant()
              + " requires reader feature '" + feature + "' that this reader does not support; upgrade the reader");
        }
      }
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

  /** What the manifest's writer says a reader must understand; the manifest itself derives it again on write. */
  private record Requirements(@JsonProperty("required_features") List<String> requiredFeatures) {}

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
