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
    return new HeadConfig(64, 16, 0.1f, 0.1f, 1f, 0.1f, 3e-3f, 8, 50, 25, 11);
  }


  @Test
  void trainingImprovesRetrievalAndTheExportedOpsReproduceTheTrainedHead() {
    TrainingData data = syntheticData();
    ValidationProtocol validation = new ValidationProtocol(data, 200, 1);
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

  private static Features normalised(Features features) {
    float[] rows = features.rows().clone();
    Vectors.normaliseRows(rows, features.dim());
    return new Features(rows, features.dim());
  }
}
