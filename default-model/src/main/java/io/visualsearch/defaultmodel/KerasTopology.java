package io.visualsearch.defaultmodel;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The layer graph of a Keras functional model ({@code model_config.class_name == "Model"}) in
 * which every layer is called once, which is how Keras applications such as InceptionV3 are built.
 */
public final class KerasTopology {

  private final Map<String, KerasLayer> layers;
  private final String inputLayer;
  private final List<String> outputLayers;

  private KerasTopology(Map<String, KerasLayer> layers, String inputLayer, List<String> outputLayers) {
    this.layers = layers;
    this.inputLayer = inputLayer;
    this.outputLayers = outputLayers;
  }

  /** Reads the {@code modelTopology} object of a TensorFlow.js layers model. */
  public static KerasTopology from(JsonNode modelTopology) {
    JsonNode modelConfig = modelTopology.path("model_config");
    String modelClass = modelConfig.path("class_name").asText();
    if (!modelClass.equals("Model") && !modelClass.equals("Functional")) {
      throw new IllegalArgumentException("expected a functional Keras model, found '" + modelClass + "'");
    }
    JsonNode config = modelConfig.path("config");
    Map<String, KerasLayer> layers = new LinkedHashMap<>();
    for (JsonNode layer : config.path("layers")) {
      KerasLayer parsed = parseLayer(layer);
      if (layers.put(parsed.name(), parsed) != null) {
        throw new IllegalArgumentException("duplicate layer name " + parsed.name());
      }
    }
    for (KerasLayer layer : layers.values()) {
      for (String source : layer.inbound()) {
        if (!layers.containsKey(source)) {
          throw new IllegalArgumentException("layer " + layer.name() + " reads unknown layer " + source);
        }
      }
    }
    JsonNode inputs = config.path("input_layers");
    if (inputs.size() != 1) {
      throw new IllegalArgumentException("expected exactly one input layer, found " + inputs.size());
    }
    List<String> outputs = new ArrayList<>();
    config.path("output_layers").forEach(o -> outputs.add(o.get(0).asText()));
    return new KerasTopology(layers, inputs.get(0).get(0).asText(), List.copyOf(outputs));
  }

  private static KerasLayer parseLayer(JsonNode layer) {
    String name = layer.path("name").asText();
    JsonNode nodes = layer.path("inbound_nodes");
    if (nodes.size() > 1) {
      throw new IllegalArgumentException("layer " + name + " is called more than once (shared layers are not supported)");
    }
    List<String> inbound = new ArrayList<>();
    if (nodes.size() == 1) {
      for (JsonNode edge : nodes.get(0)) {
        if (edge.path(1).asInt() != 0 || edge.path(2).asInt() != 0) {
          throw new IllegalArgumentException("layer " + name + " reads a non-first node or tensor of " + edge.path(0).asText());
        }
        inbound.add(edge.path(0).asText());
      }
    }
    return new KerasLayer(name, layer.path("class_name").asText(), layer.path("config"), inbound);
  }

  /** The model's single input layer. */
  public String inputLayer() {
    return inputLayer;
  }

  /** The layers the Keras model returns, e.g. the classifier's softmax. */
  public List<String> outputLayers() {
    return outputLayers;
  }

  /** The layer with this name. */
  public KerasLayer layer(String name) {
    KerasLayer layer = layers.get(name);
    if (layer == null) {
      throw new IllegalArgumentException("model has no layer " + name);
    }
    return layer;
  }

  /** All layers, in the order the config lists them. */
  public Collection<KerasLayer> layers() {
    return layers.values();
  }

  /**
   * The layers needed to compute {@code targets}, each after all the layers it reads, so a cut
   * such as {@code mixed5} builds none of the layers above it.
   */
  public List<KerasLayer> layersFor(Collection<String> targets) {
    List<KerasLayer> ordered = new ArrayList<>();
    Set<String> done = new HashSet<>();
    Set<String> inProgress = new HashSet<>();
    for (String target : targets) {
      visit(layer(target), done, inProgress, ordered);
    }
    return ordered;
  }

  // Depth-first post-order; explicit stack because InceptionV3 is ~300 layers deep.
  private void visit(KerasLayer root, Set<String> done, Set<String> inProgress, List<KerasLayer> ordered) {
    List<KerasLayer> stack = new ArrayList<>();
    List<Integer> nextChild = new ArrayList<>();
    if (done.contains(root.name())) {
      return;
    }
    stack.add(root);
    nextChild.add(0);
    inProgress.add(root.name());
    while (!stack.isEmpty()) {
      int top = stack.size() - 1;
      KerasLayer layer = stack.get(top);
      int child = nextChild.get(top);
      if (child < layer.inbound().size()) {
        nextChild.set(top, child + 1);
        KerasLayer source = layers.get(layer.inbound().get(child));
        if (done.contains(source.name())) {
          continue;
        }
        if (!inProgress.add(source.name())) {
          throw new IllegalArgumentException("cycle through layer " + source.name());
        }
        stack.add(source);
        nextChild.add(0);
      } else {
        stack.remove(top);
        nextChild.remove(top);
        inProgress.remove(layer.name());
        done.add(layer.name());
        ordered.add(layer);
      }
    }
  }
}
