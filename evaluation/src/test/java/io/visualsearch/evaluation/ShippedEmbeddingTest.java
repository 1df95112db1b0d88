package io.visualsearch.evaluation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/** How the shipped embedding is put together from its parts, and how model selection picks one. */
class ShippedEmbeddingTest {

  private static double dot(Features f, int a, int b) {
    double sum = 0;
    for (int j = 0; j < f.dim(); j++) {
      sum += (double) f.rows()[a * f.dim() + j] * f.rows()[b * f.dim() + j];
    }
    return sum;
  }

  @Test
  void composedSimilarityIsTheWeightedMixOfThePartsCosines() {
    Random random = new Random(5);
    Features pretrained = RandomUnitRows.of(random, 6, 12);
    Features category = RandomUnitRows.of(random, 6, 4);
    Features instance = RandomUnitRows.of(random, 6, 3);
    float blend = 0.1f;
    float share = 0.2f;
    Features shipped = ValidationProtocol.compose(pretrained, category, instance, blend, share);
    assertEquals(12 + 4 + 3, shipped.dim());
    for (int a = 0; a < 6; a++) {
      assertEquals(1.0, dot(shipped, a, a), 1e-5, "unit length");
      for (int b = 0; b < 6; b++) {
        double expected = blend * dot(pretrained, a, b) + (1 - blend) * (1 - share) * dot(category, a, b)
            + (1 - blend) * share * dot(instance, a, b);
        assertEquals(expected, dot(shipped, a, b), 1e-5);
      }
    }
  }

  @Test
  void partsWithoutWeightAreLeftOut() {
    Random random = new Random(6);
    Features pretrained = RandomUnitRows.of(random, 3, 12);
    Features category = RandomUnitRows.of(random, 3, 4);
    Features instance = RandomUnitRows.of(random, 3, 3);
    assertSame(category, ValidationProtocol.compose(pretrained, category, instance, 0, 0));
    assertEquals(4 + 3, ValidationProtocol.compose(pretrained, category, instance, 0, 0.3f).dim());
    assertEquals(12 + 4, ValidationProtocol.compose(pretrained, category, null, 0.3f, 0).dim());
    assertEquals(12 + 4, ValidationProtocol.blend(pretrained, category, 0.3f).dim());
  }

  @Test
  void theGraphComposesExactlyAsTheValidationDoes() {
    Random random = new Random(7);
    Features pretrained = RandomUnitRows.of(random, 5, 12);
    Features category = RandomUnitRows.of(random, 5, 4);
    Features instance = RandomUnitRows.of(random, 5, 3);
    for (float[] mix : new float[][] {{0, 0}, {0.2f, 0}, {0, 0.1f}, {0.05f, 0.3f}}) {
      Features expected = ValidationProtocol.compose(pretrained, category, instance, mix[0], mix[1]);
      try (Graph graph = new Graph()) {
        Ops tf = Ops.create(graph);
        Operand<TFloat32> composed = HeadGraph.compose(tf, constant(tf, pretrained),
            new HeadGraph.Faces(constant(tf, category), constant(tf, instance)), mix[0], mix[1]);
        try (Session session = new Session(graph); Result result = session.runner().fetch(composed).run()) {
          float[] served = new float[expected.rows().length];
          ((TFloat32) result.get(0)).copyTo(DataBuffers.of(served, false, false));
          assertArrayEquals(expected.rows(), served, 1e-6f, "blend " + mix[0] + " share " + mix[1]);
        }
      }
    }
  }

  @Test
  void thePixelBranchPassesACatalogImageThroughUnchanged() {
    Random random = new Random(8);
    byte[] grey = new byte[2 * PixelBranch.PIXELS];
    random.nextBytes(grey);
    LabeledImages images = new LabeledImages(grey, new int[] {0, 1}, PixelBranch.SIDE, PixelBranch.SIDE);
    byte[] rgb = new byte[grey.length * 3];
    for (int p = 0; p < grey.length; p++) {
      rgb[3 * p] = rgb[3 * p + 1] = rgb[3 * p + 2] = grey[p];
    }
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Operand<TFloat32> pixels = PixelBranch.pixels(tf, tf.constant(Shape.of(2, 28, 28, 3), DataBuffers.of(rgb, true, false)));
      try (Session session = new Session(graph); Result result = session.runner().fetch(pixels).run()) {
        TFloat32 out = (TFloat32) result.get(0);
        assertEquals(Shape.of(2, PixelBranch.PIXELS), out.shape());
        float[] served = new float[grey.length];
        out.copyTo(DataBuffers.of(served, false, false));
        assertArrayEquals(PixelBranch.of(images).rows(), served, 1e-4f);
      }
    }
  }

  @Test
  void thePixelBranchShrinksALargerPhotoToTheCatalogSize() {
    byte[] rgb = new byte[56 * 56 * 3];
    java.util.Arrays.fill(rgb, (byte) 200);
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Operand<TFloat32> pixels = PixelBranch.pixels(tf, tf.constant(Shape.of(1, 56, 56, 3), DataBuffers.of(rgb, true, false)));
      try (Session session = new Session(graph); Result result = session.runner().fetch(pixels).run()) {
        TFloat32 out = (TFloat32) result.get(0);
        assertEquals(Shape.of(1, PixelBranch.PIXELS), out.shape());
        assertEquals(200f, out.getFloat(0, 391), 1e-4f);
      }
    }
  }

  @Test
  void selectionTakesTheBestMapAndLetsExactItemRecallDecideNearTies() {
    List<ValidationResult> results = List.of(
        new ValidationResult(3, 0, 0, 0, 0.850, 0.90, 0.60),
        new ValidationResult(6, 0, 0, 0, 0.900, 0.93, 0.20),
        new ValidationResult(6, 0, 0, 0.1f, 0.899, 0.93, 0.55),
        new ValidationResult(9, 0, 0.1f, 0.2f, 0.870, 0.92, 0.90));
    assertEquals(2, ValidationResult.select(results, 0.002), "0.899 is a tie with 0.900 and finds more items");
    assertEquals(1, ValidationResult.select(results, 0), "without tolerance the best mAP wins");
    assertEquals(3, ValidationResult.select(results, 0.05), "a wide tolerance lets recall decide");
  }

  @Test
  void thePosteriorFaceRanksWholeCategoriesInTheQuerysOrderAndMatchesTheGraph() {
    Random random = new Random(9);
    Features proxies = RandomUnitRows.of(random, 3, 4);
    // Gallery items sit on their proxies; the query leans to category 1, then 0.
    Features gallery = new Features(concat(proxies.rows(), proxies.rows()), 4);
    float[] q = new float[4];
    for (int j = 0; j < 4; j++) {
      q[j] = 0.8f * proxies.rows()[4 + j] + 0.5f * proxies.rows()[j];
    }
    Features query = new Features(q, 4);
    Vectors.normaliseRows(query.rows(), 4);
    Features galleryPosterior = ValidationProtocol.posterior(gallery, proxies.rows(), 0.05f);
    Features queryPosterior = ValidationProtocol.posterior(query, proxies.rows(), 0.05f);
    assertEquals(3, galleryPosterior.dim());
    double[] scores = new double[6];
    for (int i = 0; i < 6; i++) {
      for (int j = 0; j < 3; j++) {
        scores[i] += galleryPosterior.rows()[i * 3 + j] * queryPosterior.rows()[j];
      }
    }
    assertEquals(scores[1], scores[4], 1e-6, "the same category scores the same");
    assertTrue(scores[1] > scores[0] && scores[0] > scores[2], java.util.Arrays.toString(scores));

    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Operand<TFloat32> posterior = HeadGraph.posterior(tf, constant(tf, gallery), constant(tf, proxies), 0.05f);
      try (Session session = new Session(graph); Result result = session.runner().fetch(posterior).run()) {
        float[] served = new float[galleryPosterior.rows().length];
        ((TFloat32) result.get(0)).copyTo(DataBuffers.of(served, false, false));
        assertArrayEquals(galleryPosterior.rows(), served, 1e-5f);
      }
    }
  }

  private static float[] concat(float[] a, float[] b) {
    float[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static Operand<TFloat32> constant(Ops tf, Features f) {
    return tf.constant(Shape.of(f.count(), f.dim()), DataBuffers.of(f.rows(), true, false));
  }
}
