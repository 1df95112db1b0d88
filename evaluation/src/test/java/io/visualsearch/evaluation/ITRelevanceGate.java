package io.visualsearch.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.defaultmodel.DefaultModelSignatures;
import io.visualsearch.samplecatalog.FashionMnist;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The relevance gate CI runs: the shipped default model on a small fixed slice of the protocol
 * (2,000 gallery images, 500 queries, 500 exact-item probes, seed 42) must not fall below the
 * floors recorded here. Nothing is cached: every run embeds the 3,000 images afresh (about a
 * minute on two cores).
 *
 * <p>Floors = measured value minus a small margin. Measured with
 * {@code EvaluationMain --gallery 2000 --queries 500 --exact 500 --seed 42 --models raw,mixed5}
 * on default-model version 1 (saved_model.pb SHA-256 prefix cdac906ad29ef2d2): raw pixels
 * mAP 0.4873 / P@10 0.7080 / exact-item recall@1 0.2280; mixed5 (the shipped
 * {@code serving_default}) mAP 0.4328 / P@10 0.6694 / recall@1 0.3880. Raise the floors when a
 * better model ships; never lower them to make a regression pass.
 */
class ITRelevanceGate {

  private static final double MAP_FLOOR = 0.42;
  private static final double P10_FLOOR = 0.65;
  private static final double EXACT_RECALL_FLOOR = 0.36;

  private static EvaluationCatalog catalog;
  private static ModelEvaluatorHarness harness;

  @BeforeAll
  static void drawTheGateSlice() throws IOException {
    Path data = Path.of(System.getProperty("evaluation.fashionMnist", FashionMnist.DEBIAN_DIR.toString()));
    catalog = EvaluationCatalog.draw(FashionMnistSplits.train(data), FashionMnistSplits.test(data), 2000, 500, 500, 42);
    harness = new ModelEvaluatorHarness(catalog);
  }

  @Test
  void theProtocolReproducesTheRecordedPixelBaseline() throws IOException {
    // Pixels need no model: if this drifts, the protocol (draws, metrics, alterations) changed,
    // and every recorded number must be re-measured.
    ModelEvaluation raw = harness.evaluate(new RawPixelEmbedder(28, 28));
    assertEquals(0.4873, raw.ranking().meanAveragePrecision(), 5e-4);
    assertEquals(0.7080, raw.ranking().precisionAt10(), 5e-4);
    assertEquals(0.2280, raw.exactItemRecallAt1(), 5e-4);
  }

  @Test
  void theShippedModelStaysAboveItsFloors() throws IOException {
    Path shipped = Path.of(System.getProperty("evaluation.savedModel", "../default-model/target/models/default/1"));
    try (Embedder model = SavedModelEmbedder.load("shipped", shipped, DefaultModelSignatures.SERVING_DEFAULT)) {
      ModelEvaluation result = harness.evaluate(model);
      System.out.println("relevance gate: " + result.summaryLine());
      assertTrue(result.ranking().meanAveragePrecision() >= MAP_FLOOR, result.summaryLine());
      assertTrue(result.ranking().precisionAt10() >= P10_FLOOR, result.summaryLine());
      assertTrue(result.exactItemRecallAt1() >= EXACT_RECALL_FLOOR, result.summaryLine());
    }
  }

  /** The evaluator over a throw-away cache, so the gate always measures rather than reads. */
  private static final class ModelEvaluatorHarness {
    private final EvaluationCatalog catalog;

    ModelEvaluatorHarness(EvaluationCatalog catalog) {
      this.catalog = catalog;
    }

    ModelEvaluation evaluate(Embedder embedder) throws IOException {
      Path cache = java.nio.file.Files.createTempDirectory("relevance-gate");
      try {
        return new ModelEvaluator(catalog, new FeatureCache(cache), new ShopperPhotoAlteration(42), FashionMnistSplits.CATEGORIES.size())
            .evaluate(embedder);
      } finally {
        org.apache.commons.io.FileUtils.deleteDirectory(cache.toFile());
      }
    }
  }
}
