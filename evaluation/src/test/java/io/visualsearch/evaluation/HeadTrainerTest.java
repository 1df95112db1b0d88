package io.visualsearch.evaluation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Trains the real TensorFlow head on synthetic "backbone features" with a known category structure. */
class HeadTrainerTest {

  private static final int CATEGORIES = 10;
  private static final int IMAGES = 1500;

  /**
   * Categories differ only along a few directions buried under large nuisance variance, so raw
   * cosine retrieval is poor and a trained head can do much better.
   */
  private static TrainingData syntheticData() {
    Random random = new Random(3);
    int dim = BackboneGraph.GRID_FEATURES;
    float[][] centres = new float[CATEGORIES][dim];
    for (float[] centre : centres) {
      for (int j = 0; j < 32; j++) {
        centre[j] = (float) random.nextGaussian() * 3;
      }
    }
    int[] labels = new int[IMAGES];
    float[] grid = new float[IMAGES * dim];
    for (int i = 0; i < IMAGES; i++) {
      labels[i] = i % CATEGORIES;
      for (int j = 0; j < dim; j++) {
        grid[i * dim + j] = 5 + centres[labels[i]][j] + (float) random.nextGaussian() * (j < 32 ? 1f : 3f);
      }
    }
    TrainingSplit split = TrainingSplit.draw(IMAGES, IMAGES, 200, 300, 100, 1);
    Features clean = new Features(grid, dim);
    Features views = jitter(clean.select(split.viewed()), random);
    Features probes = jitter(clean.select(split.validationProbes()), random);
    return new TrainingData(split, labels, pair(clean, random), pair(views, random), pair(probes, random));
  }

  private static Features jitter(Features features, Random random) {
    float[] rows = features.rows().clone();
    for (int i = 0; i < rows.length; i++) {
      rows[i] += (float) random.nextGaussian() * 0.5f;
    }
    return new Features(rows, features.dim());
  }

  private static BackboneFeatures.Pair pair(Features grid, Random random) {
    float[] embedding = new float[grid.count() * BackboneGraph.CHANNELS];
    for (int i = 0; i < embedding.length; i++) {
      embedding[i] = (float) random.nextGaussian();
    }
    Vectors.normaliseRows(embedding, BackboneGraph.CHANNELS);
    return new BackboneFeatures.Pair(new Features(embedding, BackboneGraph.CHANNELS), grid);
  }

  private static HeadConfig config() {
    return new HeadConfig(64, 16, 0, 0.1f, 0.1f, 1f, 0f, 0.1f, 3e-3f, 8, 50, 25, 11);
  }


  @Test
  void trainingImprovesRetrievalAndTheExportedOpsReproduceTheTrainedHead() {
    TrainingData data = syntheticData();
    ValidationProtocol validation = new ValidationProtocol(data, CATEGORIES, 200, 1);
    FeatureStandardisation standardisation = FeatureStandardisation.of(data.clean().grid(), data.split().fit());
    ValidationResult raw = validation.measure(0, 0, normalised(data.clean().grid()), normalised(data.probes().grid()));
    try (HeadTrainer trainer = new HeadTrainer(config(), BackboneGraph.GRID_FEATURES, CATEGORIES, standardisation.mean(), standardisation.invStd())) {
      Random order = new Random(2);
      double firstLoss = trainer.epoch(data, 0, order)[0];
      double lastLoss = firstLoss;
      for (int epoch = 1; epoch < config().epochs(); epoch++) {
        lastLoss = trainer.epoch(data, epoch, order)[0];
      }
      assertTrue(lastLoss < firstLoss * 0.7, "category loss fell from " + firstLoss + " to " + lastLoss);

      Features head = trainer.embed(data.clean().grid());
      ValidationResult trained = validation.measure(1, 0, head, trainer.embed(data.probes().grid()));
      assertTrue(trained.meanAveragePrecision() > raw.meanAveragePrecision() + 0.2,
          "head mAP " + trained.meanAveragePrecision() + " vs raw " + raw.meanAveragePrecision());

      for (float blend : new float[] {0f, 0.3f}) {
        try (HeadInference inference = new HeadInference(trainer.snapshot(blend))) {
          Features served = inference.embed(data.clean().embedding(), data.clean().grid());
          Features expected = ValidationProtocol.blend(data.clean().embedding(), head, blend);
          assertEquals(expected.dim(), served.dim());
          assertArrayEquals(expected.rows(), served.rows(), 1e-5f, "blend " + blend);
        }
      }
    }
  }

  @Test
  void aFixedSeedGivesTheSameWeights() {
    TrainingData data = syntheticData();
    FeatureStandardisation standardisation = FeatureStandardisation.of(data.clean().grid(), data.split().fit());
    float[][] weights = new float[2][];
    for (int run = 0; run < 2; run++) {
      try (HeadTrainer trainer = new HeadTrainer(config(), BackboneGraph.GRID_FEATURES, CATEGORIES, standardisation.mean(), standardisation.invStd())) {
        Random order = new Random(2);
        trainer.epoch(data, 0, order);
        trainer.epoch(data, 1, order);
        weights[run] = trainer.snapshot(0).w2();
      }
    }
    assertArrayEquals(weights[0], weights[1]);
  }

  /**
   * Two faces on [grid, pixels] input: the instance face finds altered items that the category
   * face (shipped as a posterior, which flattens a category) cannot tell apart, and the exported
   * ops reproduce every composition the selection measures.
   */
  @Test
  void theInstanceFaceFindsItemsTheCategoryPosteriorCannotAndTheServedOpsAgree() {
    TrainingData grid = syntheticData();
    int pixels = 16;
    TrainingData data = grid.withPixels(new TrainingData(grid.split(), grid.labels(),
        pixelPair(grid.clean().grid(), pixels), pixelPair(grid.views().grid(), pixels), pixelPair(grid.probes().grid(), pixels)));
    int inputs = BackboneGraph.GRID_FEATURES + pixels;
    HeadConfig config = new HeadConfig(64, 16, 16, 0.1f, 0.1f, 1f, 0.1f, 0.1f, 3e-3f, 8, 50, 25, 11);
    FeatureStandardisation standardisation = FeatureStandardisation.of(data.clean().grid(), data.split().fit(), pixels);
    ValidationProtocol validation = new ValidationProtocol(data, CATEGORIES, 200, 1);
    try (HeadTrainer trainer = new HeadTrainer(config, inputs, pixels, CATEGORIES, standardisation.mean(), standardisation.invStd())) {
      Random order = new Random(2);
      for (int epoch = 0; epoch < config.epochs(); epoch++) {
        trainer.epoch(data, epoch, order);
      }
      HeadTrainer.Embedded all = trainer.embedFaces(data.clean().grid());
      HeadTrainer.Embedded probes = trainer.embedFaces(data.probes().grid());
      ProjectionHead head = trainer.snapshot(0, 0);
      Features posteriorAll = ValidationProtocol.posterior(all.category(), head.proxies(), 0.05f);
      Features posteriorProbes = ValidationProtocol.posterior(probes.category(), head.proxies(), 0.05f);
      ValidationResult categoryOnly = validation.measure(1, 0.05f, 0, 0, posteriorAll, posteriorProbes);
      ValidationResult withInstances = validation.measure(1, 0.05f, 0, 0.3f,
          ValidationProtocol.compose(null, posteriorAll, all.instance(), 0, 0.3f),
          ValidationProtocol.compose(null, posteriorProbes, probes.instance(), 0, 0.3f));
      assertTrue(withInstances.exactItemRecallAt1() > categoryOnly.exactItemRecallAt1() + 0.2,
          "recall " + categoryOnly.exactItemRecallAt1() + " -> " + withInstances.exactItemRecallAt1());
      assertTrue(categoryOnly.meanAveragePrecision() > 0.7, "posterior mAP " + categoryOnly.meanAveragePrecision());

      for (float[] mix : new float[][] {{0, 0, 0}, {0.05f, 0, 0.3f}, {0, 0.2f, 0.1f}, {0.02f, 0.1f, 0}}) {
        ProjectionHead shipped = head.withComposition(mix[0], mix[1], mix[2]);
        Features category = mix[0] > 0 ? ValidationProtocol.posterior(all.category(), head.proxies(), mix[0]) : all.category();
        Features expected = ValidationProtocol.compose(data.clean().embedding(), category, all.instance(), mix[1], mix[2]);
        try (HeadInference inference = new HeadInference(shipped)) {
          Features served = inference.embed(data.clean().embedding(), data.clean().grid());
          assertEquals(shipped.outputDim(), served.dim());
          assertArrayEquals(expected.rows(), served.rows(), 1e-5f, java.util.Arrays.toString(mix));
        }
      }
    }
  }

  /** Pixel-like columns: a noisy copy of a few informative grid columns, on a 0-255 scale. */
  private static BackboneFeatures.Pair pixelPair(Features grid, int pixels) {
    Random random = new Random(grid.count());
    float[] rows = new float[grid.count() * pixels];
    for (int i = 0; i < grid.count(); i++) {
      for (int j = 0; j < pixels; j++) {
        rows[i * pixels + j] = 128 + 10 * grid.rows()[i * grid.dim() + j] + (float) random.nextGaussian() * 20;
      }
    }
    return new BackboneFeatures.Pair(null, new Features(rows, pixels));
  }

  private static Features normalised(Features features) {
    float[] rows = features.rows().clone();
    Vectors.normaliseRows(rows, features.dim());
    return new Features(rows, features.dim());
  }
}
