package io.visualsearch.defaultmodel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class KerasTopologyTest {

  /** input -> a -> {b, c} -> d(concat b, c) -> e; listed out of order on purpose. */
  private static final String MODEL =
      "{model_config:{class_name:'Model',config:{name:'m',layers:["
          + "{name:'d',class_name:'Concatenate',config:{axis:-1},inbound_nodes:[[['b',0,0,{}],['c',0,0,{}]]]},"
          + "{name:'in',class_name:'InputLayer',config:{},inbound_nodes:[]},"
          + "{name:'a',class_name:'Activation',config:{activation:'relu'},inbound_nodes:[[['in',0,0,{}]]]},"
          + "{name:'b',class_name:'Activation',config:{activation:'relu'},inbound_nodes:[[['a',0,0,{}]]]},"
          + "{name:'c',class_name:'Activation',config:{activation:'relu'},inbound_nodes:[[['a',0,0,{}]]]},"
          + "{name:'e',class_name:'Activation',config:{activation:'relu'},inbound_nodes:[[['d',0,0,{}]]]}"
          + "],input_layers:[['in',0,0]],output_layers:[['e',0,0]]}}}";

  private static KerasTopology topology(String text) {
    return KerasTopology.from(JsLiteralParser.parse(text));
  }

  private static List<String> names(List<KerasLayer> layers) {
    return layers.stream().map(KerasLayer::name).collect(Collectors.toList());
  }

  @Test
  void ordersEachLayerAfterTheLayersItReads() {
    List<String> order = names(topology(MODEL).layersFor(List.of("e")));
    assertEquals(List.of("in", "a", "b", "c", "d", "e"), order);
  }

  @Test
  void buildsOnlyWhatACutNeeds() {
    List<String> order = names(topology(MODEL).layersFor(List.of("b")));
    assertEquals(List.of("in", "a", "b"), order);
  }

  @Test
  void keepsInboundArgumentOrderForConcatenation() {
    assertEquals(List.of("b", "c"), topology(MODEL).layer("d").inbound());
  }

  @Test
  void rejectsEdgesToUnknownLayersAndSharedLayers() {
    assertThrows(IllegalArgumentException.class, () -> topology(MODEL.replace("['a',0,0,{}]]]},{name:'c'", "['zz',0,0,{}]]]},{name:'c'")));
    String shared = MODEL.replace("inbound_nodes:[[['d',0,0,{}]]]", "inbound_nodes:[[['d',0,0,{}]],[['a',0,0,{}]]]");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> topology(shared));
    assertTrue(e.getMessage().contains("more than once"), e.getMessage());
  }

  @Test
  void inceptionMixed5CutLeavesTheUpperHalfOut() throws Exception {
    KerasModelArtifacts inception =
        NsfwjsPackage.read(java.nio.file.Path.of(System.getProperty("defaultmodel.package")), PinnedPackage.NSFWJS)
            .model(NsfwjsPackage.INCEPTION_V3);
    KerasTopology topology = KerasTopology.from(inception.modelTopology());
    List<String> mixed5 = names(topology.layersFor(List.of("mixed5")));
    assertTrue(mixed5.containsAll(List.of("input_1", "mixed0", "mixed4")));
    assertFalse(mixed5.contains("mixed6"));
    assertFalse(mixed5.contains("dense_1"));
    JsonNode bn = topology.layer("batch_normalization_1").config();
    assertEquals(0.001, bn.path("epsilon").asDouble(), 0.0);
    assertFalse(bn.path("scale").booleanValue());
  }
}
