package io.visualsearch.evaluation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.defaultmodel.DefaultModelRunner;
import io.visualsearch.defaultmodel.DefaultModelSignatures;
import io.visualsearch.defaultmodel.ImageBatch;
import io.visualsearch.defaultmodel.WarmupRequestsFile;
import io.visualsearch.samplecatalog.FashionMnist;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Publishes a head on the real default model and checks what a model server would load. */
class ITFineTunedExport {

  @TempDir Path base;

  private static final Path BASELINE =
      Path.of(System.getProperty("evaluation.savedModel", "../default-model/target/models/default/1")).toAbsolutePath();

  /** A head with seeded random weights: the export must reproduce any head, trained or not. */
  private static ProjectionHead randomHead(float blend) {
    Random random = new Random(4);
    int in = BackboneGraph.GRID_FEATURES;
    int hidden = 32;
    int dim = 8;
    float[] mean = new float[in];
    float[] invStd = new float[in];
    float[] w1 = new float[in * hidden];
    float[] b1 = new float[hidden];
    float[] w2 = new float[hidden * dim];
    float[] b2 = new float[dim];
    for (int i = 0; i < in; i++) {
      mean[i] = random.nextFloat() * 0.01f;
      invStd[i] = 50 + random.nextFloat() * 50;
    }
    for (float[] weights : new float[][] {w1, b1, w2, b2}) {
      for (int i = 0; i < weights.length; i++) {
        weights[i] = (float) random.nextGaussian() * 0.05f;
      }
    }
    return new ProjectionHead(in, hidden, dim, mean, invStd, w1, b1, w2, b2, blend);
  }

  private static LabeledImages images() throws IOException {
    LabeledImages test = FashionMnistSplits.test(
        Path.of(System.getProperty("evaluation.fashionMnist", FashionMnist.DEBIAN_DIR.toString())));
    return test.select(new int[] {0, 1, 2, 3, 4, 5});
  }

  @Test
  void thePublishedVersionServesTheHeadOnTopOfTheBaselineBackbone() throws IOException {
    Files.createSymbolicLink(base.resolve("1"), BASELINE);
    ProjectionHead head = randomHead(0.25f);
    LabeledImages images = images();
    Features expected;
    try (BackboneFeatures backbone = BackboneFeatures.load(BASELINE);
        HeadInference inference = new HeadInference(head)) {
      BackboneFeatures.Pair features = backbone.extract(images);
      expected = inference.embed(features.embedding(), features.grid());
    }

    Path published = new FineTunedModelExporter().export(BASELINE, head, base, 2, staged -> {
      assertFalse(Files.exists(base.resolve("2")), "nothing is visible before the check passes");
    });
    assertEquals(base.resolve("2"), published);
    assertArrayEquals(Files.readAllBytes(BASELINE.resolve(WarmupRequestsFile.RELATIVE_PATH)),
        Files.readAllBytes(published.resolve(WarmupRequestsFile.RELATIVE_PATH)),
        "the baseline's warm-up requests come along: the served signatures take its inputs");
    try (DefaultModelRunner runner = DefaultModelRunner.load(published)) {
      float[][] served = runner.run(DefaultModelSignatures.SERVING_DEFAULT, rgb(images));
      assertEquals(head.outputDim(), served[0].length);
      for (int i = 0; i < served.length; i++) {
        float[] row = java.util.Arrays.copyOfRange(expected.rows(), i * expected.dim(), (i + 1) * expected.dim());
        assertArrayEquals(row, served[i], 1e-5f, "image " + i);
        double norm = 0;
        for (float v : served[i]) {
          norm += v * v;
        }
        assertEquals(1.0, norm, 1e-4, "embeddings are unit vectors");
      }
      // The baseline's signatures travel with the new version, and the pretrained embedding stays reachable.
      for (String signature : new String[] {FineTunedModelExporter.PRETRAINED, DefaultModelSignatures.MIXED7,
          DefaultModelSignatures.MIXED10, DefaultModelSignatures.CLASSIFY}) {
        assertTrue(runner.bundle().metaGraphDef().getSignatureDefMap().containsKey(signature), signature);
      }
      try (DefaultModelRunner baseline = DefaultModelRunner.load(BASELINE)) {
        assertArrayEquals(baseline.run(DefaultModelSignatures.SERVING_DEFAULT, rgb(images))[0],
            runner.run(FineTunedModelExporter.PRETRAINED, rgb(images))[0], 1e-6f);
      }
    }
  }

  /** Pixel branch, instance face and category posterior: the served graph computes them from the image bytes. */
  @Test
  void aTwoFaceHeadOnGridAndPixelsServesWhatTheTrainedOpsCompute() throws IOException {
    Files.createSymbolicLink(base.resolve("1"), BASELINE);
    Random random = new Random(5);
    int in = BackboneGraph.GRID_FEATURES + PixelBranch.PIXELS;
    int hidden = 32;
    int dim = 8;
    int instanceDim = 6;
    float[][] weights = {new float[in * hidden], new float[hidden], new float[hidden * dim], new float[dim],
        new float[hidden * instanceDim], new float[instanceDim], new float[10 * dim]};
    for (float[] w : weights) {
      for (int i = 0; i < w.length; i++) {
        w[i] = (float) random.nextGaussian() * 0.05f;
      }
    }
    float[] mean = new float[in];
    float[] invStd = new float[in];
    for (int i = 0; i < in; i++) {
      mean[i] = random.nextFloat() * 0.01f;
      invStd[i] = 20 + random.nextFloat() * 20;
    }
    ProjectionHead head = new ProjectionHead(in, PixelBranch.PIXELS, hidden, dim, instanceDim, mean, invStd,
        weights[0], weights[1], weights[2], weights[3], weights[4], weights[5], weights[6], 0.05f, 0, 0.2f);
    LabeledImages images = images();
    Features expected;
    try (BackboneFeatures backbone = BackboneFeatures.load(BASELINE);
        HeadInference inference = new HeadInference(head)) {
      BackboneFeatures.Pair features = backbone.extract(images);
      TrainingSplit none = new TrainingSplit(new int[0], new int[0], new int[0], new int[0], new int[0]);
      BackboneFeatures.Pair empty = new BackboneFeatures.Pair(null, new Features(new float[0], 1));
      TrainingData grid = new TrainingData(none, new int[0], features, empty, empty);
      TrainingData pixels = new TrainingData(none, new int[0],
          new BackboneFeatures.Pair(null, PixelBranch.of(images)), empty, empty);
      expected = inference.embed(features.embedding(), grid.withPixels(pixels).clean().grid());
    }
    Path published = new FineTunedModelExporter().export(BASELINE, head, base, 2, staged -> { });
    try (DefaultModelRunner runner = DefaultModelRunner.load(published)) {
      float[][] served = runner.run(DefaultModelSignatures.SERVING_DEFAULT, rgb(images));
      assertEquals(10 + instanceDim, served[0].length);
      for (int i = 0; i < served.length; i++) {
        float[] row = java.util.Arrays.copyOfRange(expected.rows(), i * expected.dim(), (i + 1) * expected.dim());
        assertArrayEquals(row, served[i], 1e-5f, "image " + i);
      }
    }
  }

  @Test
  void aVersionPublishedByAnotherRunMeanwhileIsNeverReplaced() throws IOException {
    Files.createSymbolicLink(base.resolve("1"), BASELINE);
    Path marker = base.resolve("2").resolve("saved_model.pb");
    IOException failure = assertThrows(IOException.class, () ->
        new FineTunedModelExporter().export(BASELINE, randomHead(0), base, 2, staged -> {
          Files.createDirectories(marker.getParent());
          Files.writeString(marker, "the other run's model");
        }));
    assertTrue(failure.getMessage().contains("appeared"), failure.getMessage());
    assertEquals("the other run's model", Files.readString(marker));
  }

  @Test
  void aFailedCheckPublishesNothing() throws IOException {
    Files.createSymbolicLink(base.resolve("1"), BASELINE);
    IOException failure = assertThrows(IOException.class, () ->
        new FineTunedModelExporter().export(BASELINE, randomHead(0), base, 2, staged -> {
          throw new IOException("parity failed");
        }));
    assertEquals("parity failed", failure.getMessage());
    try (var entries = Files.list(base)) {
      assertEquals(1, entries.count(), "only the baseline remains; no staging leftovers");
    }
  }

  private static ImageBatch rgb(LabeledImages images) {
    byte[] rgb = new byte[images.pixels().length * 3];
    for (int p = 0; p < images.pixels().length; p++) {
      rgb[3 * p] = rgb[3 * p + 1] = rgb[3 * p + 2] = images.pixels()[p];
    }
    return new ImageBatch(rgb, images.count(), images.height(), images.width());
  }
}
