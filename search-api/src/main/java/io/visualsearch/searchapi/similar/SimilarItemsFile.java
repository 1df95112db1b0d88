package io.visualsearch.searchapi.similar;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.visualsearch.indexformat.IndexLayout;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/**
 * Contents of {@code similar/<tenant>/<sku>.json}, written by response-consumer after each index
 * publication and read by search-api. Scores follow the index's metric (higher is closer).
 *
 * @param vector the product's indexed vector as the index compares it (base64 of little-endian
 *     float32), from which search-api searches live when asked for more items than {@code results}
 *     holds; null in files written before it existed
 * @param vectorVariant the index's vector variant ({@code IndexManifest.vector_variant}), so that
 *     the vector is only compared with an index of the same space; null when the index names none
 * @param modelName the index's model: two models' versions both count from 1, and only the name
 *     tells their spaces apart; null in files written before it was kept
 */
public record SimilarItemsFile(
    @JsonProperty("tenant") String tenant,
    @JsonProperty("sku") String sku,
    @JsonProperty("index_version") String indexVersion,
    @JsonProperty("model_version") long modelVersion,
    @JsonProperty("computed_at_ms") long computedAtMs,
    @JsonProperty("results") List<Item> results,
    @JsonProperty("vector_variant") @JsonInclude(JsonInclude.Include.NON_NULL) String vectorVariant,
    @JsonProperty("vector") @JsonInclude(JsonInclude.Include.NON_NULL) String vector,
    @JsonProperty("model_name") @JsonInclude(JsonInclude.Include.NON_NULL) String modelName) {

  public record Item(@JsonProperty("sku") String sku, @JsonProperty("score") float score) {}

  /** A file without the product's own vector, as written before it was kept. */
  public SimilarItemsFile(String tenant, String sku, String indexVersion, long modelVersion, long computedAtMs,
      List<Item> results) {
    this(tenant, sku, indexVersion, modelVersion, computedAtMs, results, null, null, null);
  }

  /** A file with the product's vector, as written before the model's name was kept. */
  public SimilarItemsFile(String tenant, String sku, String indexVersion, long modelVersion, long computedAtMs,
      List<Item> results, String vectorVariant, String vector) {
    this(tenant, sku, indexVersion, modelVersion, computedAtMs, results, vectorVariant, vector, null);
  }

  /**
   * This file without the version and time it was written: what two runs that found the same
   * neighbours for the same vector agree on, so the later one can leave the file as it is.
   */
  public SimilarItemsFile unversioned() {
    return new SimilarItemsFile(tenant, sku, "", modelVersion, 0, results, vectorVariant, vector, modelName);
  }

  /** The object key; the sku is URL-encoded so a '/' or '..' in a sku cannot escape the tenant's prefix. */
  public static String key(String tenant, String sku) {
    return "similar/" + IndexLayout.validTenant(tenant) + "/" + URLEncoder.encode(sku, StandardCharsets.UTF_8) + ".json";
  }

  /**
   * What makes a file as read unusable, or null: a file written by another tool, or damaged,
   * without its version or with an item that names no product. Read on, it failed as an internal
   * error (a NullPointerException) on HTTP and escaped gRPC's error handling.
   */
  public String problem() {
    if (indexVersion == null || indexVersion.isBlank()) {
      return "it names no index_version";
    }
    if (results != null) {
      for (int i = 0; i < results.size(); i++) {
        Item item = results.get(i);
        if (item == null || item.sku() == null || item.sku().isEmpty()) {
          return "results[" + i + "] names no sku";
        }
      }
    }
    return null;
  }

  /** {@code v} as the {@code vector} field holds it. */
  public static String encode(float[] v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    for (float x : v) {
      b.putFloat(x);
    }
    return Base64.getEncoder().encodeToString(b.array());
  }

  /** The product's vector, or null when the file has none or it is not a whole number of finite floats. */
  public float[] decodedVector() {
    if (vector == null) {
      return null;
    }
    byte[] bytes;
    try {
      bytes = Base64.getDecoder().decode(vector);
    } catch (IllegalArgumentException e) {
      return null;
    }
    if (bytes.length == 0 || bytes.length % Float.BYTES != 0) {
      return null;
    }
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    float[] out = new float[bytes.length / Float.BYTES];
    for (int i = 0; i < out.length; i++) {
      out[i] = b.getFloat();
      if (!Float.isFinite(out[i])) {
        return null;
      }
    }
    return out;
  }
}
