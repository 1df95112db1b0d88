package io.visualsearch.defaultmodel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads the real pinned tarball, which the build downloads before tests run. */
class NsfwjsPackageTest {

  private static Path tarball;
  private static KerasModelArtifacts inception;

  @BeforeAll
  static void read() throws IOException {
    tarball = Path.of(System.getProperty("defaultmodel.package"));
    inception = NsfwjsPackage.read(tarball, PinnedPackage.NSFWJS).model(NsfwjsPackage.INCEPTION_V3);
  }

  @Test
  void decodesTheKerasInceptionV3TopologyAndEveryWeight() {
    assertEquals("2.2.4", inception.modelTopology().path("keras_version").asText());
    KerasTopology topology = KerasTopology.from(inception.modelTopology());
    assertEquals("input_1", topology.inputLayer());
    assertEquals(List.of("dense_3"), topology.outputLayers());
    long convolutions = topology.layers().stream().filter(l -> l.className().equals("Conv2D")).count();
    assertEquals(94, convolutions);
    // 94 kernels, 3 x 94 BatchNormalization vectors (no gamma: scale=false), 3 Dense kernels + biases
    assertEquals(94 + 3 * 94 + 6, inception.weights().size());
    assertFalse(inception.weights().containsKey("batch_normalization_1/gamma"));
  }

  @Test
  void weightsHaveTheShapesTheirLayersImply() {
    QuantizedWeight first = inception.weight("conv2d_1/kernel");
    assertEquals(List.of(3L, 3L, 3L, 32L), asList(first.shape()));
    QuantizedWeight classifier = inception.weight("dense_3/kernel");
    assertEquals(List.of(128L, 5L), asList(classifier.shape()));
    // the last weight in the manifest ends exactly at the end of the last shard
    assertEquals(5, inception.weight("dense_3/bias").codes().length);
  }

  @Test
  void dequantisedValuesStayWithinTheQuantisationRange() {
    QuantizedWeight variance = inception.weight("batch_normalization_1/moving_variance");
    float lowest = Float.MAX_VALUE;
    float highest = -Float.MAX_VALUE;
    for (float v : variance.dequantise()) {
      lowest = Math.min(lowest, v);
      highest = Math.max(highest, v);
    }
    assertTrue(lowest >= (float) variance.min(), "below min");
    assertTrue(highest <= (float) (variance.min() + 255 * variance.scale()), "above max");
    assertTrue(highest > lowest, "a real weight is not constant");
  }

  @Test
  void refusesATarballThatIsNotThePinnedOne(@TempDir Path dir) throws IOException {
    Path tampered = dir.resolve("nsfwjs-4.4.0.tgz");
    Files.copy(tarball, tampered);
    try (OutputStream out = Files.newOutputStream(tampered, StandardOpenOption.APPEND)) {
      out.write(0);
    }
    IOException e = assertThrows(IOException.class, () -> NsfwjsPackage.read(tampered, PinnedPackage.NSFWJS));
    assertTrue(e.getMessage().contains("sha512"), e.getMessage());
  }

  private static List<Long> asList(long[] values) {
    return java.util.Arrays.stream(values).boxed().toList();
  }
}
