package io.visualsearch.defaultmodel;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * One layer of a Keras functional model config.
 *
 * @param name layer name, also the prefix of its weights ({@code <name>/kernel})
 * @param className Keras class, e.g. {@code Conv2D}
 * @param config the layer's {@code config} object
 * @param inbound names of the layers whose outputs feed this one, in argument order
 */
public record KerasLayer(String name, String className, JsonNode config, List<String> inbound) {

  public KerasLayer {
    inbound = List.copyOf(inbound);
  }

  /** A required integer list from the config, e.g. {@code strides}. */
  public int[] ints(String key) {
    JsonNode node = config.path(key);
    if (!node.isArray()) {
      throw unsupported("missing list '" + key + "'");
    }
    int[] values = new int[node.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = node.get(i).asInt();
    }
    return values;
  }

  /** A required string from the config, e.g. {@code padding}. */
  public String string(String key) {
    JsonNode node = config.path(key);
    if (!node.isTextual()) {
      throw unsupported("missing string '" + key + "'");
    }
    return node.textValue();
  }

  /** A boolean from the config, or {@code fallback} if absent. */
  public boolean bool(String key, boolean fallback) {
    JsonNode node = config.path(key);
    return node.isBoolean() ? node.booleanValue() : fallback;
  }

  /** An exception naming this layer, for configurations the graph builder does not translate. */
  public IllegalArgumentException unsupported(String what) {
    return new IllegalArgumentException(className + " layer '" + name + "': " + what);
  }
}
