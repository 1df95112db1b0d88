package io.visualsearch.defaultmodel;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A TensorFlow.js Keras layers model: its topology and its weights, decoded from a model file and
 * its weight shards the way TensorFlow.js does (shards concatenated in manifest order, weights laid
 * out back to back in manifest order).
 */
public final class KerasModelArtifacts {

  private final JsonNode modelTopology;
  private final Map<String, QuantizedWeight> weights;

  private KerasModelArtifacts(JsonNode modelTopology, Map<String, QuantizedWeight> weights) {
    this.modelTopology = modelTopology;
    this.weights = weights;
  }

  /**
   * Decodes a model.
   *
   * @param modelJson the object with {@code modelTopology} and {@code weightsManifest}
   * @param shardBase64 returns the base64 text of the shard a manifest path names
   */
  public static KerasModelArtifacts decode(JsonNode modelJson, Function<String, String> shardBase64) {
    JsonNode topology = modelJson.path("modelTopology");
    if (!topology.isObject()) {
      throw new IllegalArgumentException("model has no modelTopology object");
    }
    JsonNode manifest = modelJson.path("weightsManifest");
    if (!manifest.isArray()) {
      throw new IllegalArgumentException("model has no weightsManifest array");
    }
    List<byte[]> shards = new ArrayList<>();
    List<JsonNode> specs = new ArrayList<>();
    for (JsonNode group : manifest) {
      for (JsonNode path : group.path("paths")) {
        String base64 = shardBase64.apply(path.asText());
        if (base64 == null) {
          throw new IllegalArgumentException("missing weight shard " + path.asText());
        }
        shards.add(Base64.getDecoder().decode(base64));
      }
      group.path("weights").forEach(specs::add);
    }
    byte[] data = concatenate(shards);
    Map<String, QuantizedWeight> weights = new LinkedHashMap<>();
    int offset = 0;
    for (JsonNode spec : specs) {
      QuantizedWeight weight = readWeight(spec, data, offset);
      offset += weight.codes().length;
      if (weights.put(weight.name(), weight) != null) {
        throw new IllegalArgumentException("weight " + weight.name() + " appears twice in the manifest");
      }
    }
    if (offset != data.length) {
      throw new IllegalArgumentException(
          "manifest describes " + offset + " bytes of weights but the shards hold " + data.length);
    }
    return new KerasModelArtifacts(topology, weights);
  }

  private static QuantizedWeight readWeight(JsonNode spec, byte[] data, int offset) {
    String name = spec.path("name").asText();
    if (!"float32".equals(spec.path("dtype").asText())) {
      throw new IllegalArgumentException(name + ": only float32 weights are supported");
    }
    JsonNode quantization = spec.path("quantization");
    if (!"uint8".equals(quantization.path("dtype").asText())
        || !quantization.path("min").isNumber()
        || !quantization.path("scale").isNumber()) {
      // Every weight nsfwjs ships is uint8 affine-quantised; anything else is a different package.
      throw new IllegalArgumentException(name + ": expected uint8 quantisation with min and scale");
    }
    long[] shape = new long[spec.path("shape").size()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = spec.path("shape").get(i).asLong();
    }
    long count = QuantizedWeight.elementCount(shape);
    if (offset + count > data.length) {
      throw new IllegalArgumentException(name + ": weight data ends before this weight does");
    }
    byte[] codes = Arrays.copyOfRange(data, offset, offset + (int) count);
    return new QuantizedWeight(
        name, shape, quantization.path("min").asDouble(), quantization.path("scale").asDouble(), codes);
  }

  private static byte[] concatenate(List<byte[]> parts) {
    int total = 0;
    for (byte[] part : parts) {
      total = Math.addExact(total, part.length);
    }
    byte[] all = new byte[total];
    int offset = 0;
    for (byte[] part : parts) {
      System.arraycopy(part, 0, all, offset, part.length);
      offset += part.length;
    }
    return all;
  }

  /** The Keras {@code modelTopology} object ({@code keras_version}, {@code model_config}, …). */
  public JsonNode modelTopology() {
    return modelTopology;
  }

  /** All weights by Keras name, in manifest order. */
  public Map<String, QuantizedWeight> weights() {
    return Collections.unmodifiableMap(weights);
  }

  /** The weight with this Keras name, e.g. {@code conv2d_1/kernel}. */
  public QuantizedWeight weight(String name) {
    QuantizedWeight weight = weights.get(name);
    if (weight == null) {
      throw new IllegalArgumentException("model has no weight " + name);
    }
    return weight;
  }
}
