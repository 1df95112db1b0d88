package io.visualsearch.defaultmodel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TUint8;

/** The contract the model server and the embeddings generator rely on, checked on the exported SavedModel. */
class ITDefaultModelSignatures {

  private static final Map<String, Integer> WIDTH = Map.of(
      DefaultModelSignatures.SERVING_DEFAULT, 768,
      DefaultModelSignatures.MIXED7, 768,
      DefaultModelSignatures.MIXED10, 2048,
      DefaultModelSignatures.CLASSIFY, 5);

  private static DefaultModelRunner runner;

  @BeforeAll
  static void load() {
    runner = DefaultModelRunner.load(Path.of(System.getProperty("defaultmodel.savedModel")));
  }

  @AfterAll
  static void close() {
    runner.close();
  }

  @Test
  void everySignatureTakesUint8ImagesOfAnySizeAndReturnsFloatRows() {
    Map<String, Signature> signatures =
        runner.bundle().signatures().stream().collect(Collectors.toMap(Signature::key, s -> s));
    assertEquals(WIDTH.keySet(), signatures.keySet());
    for (Map.Entry<String, Integer> expected : WIDTH.entrySet()) {
      Signature signature = signatures.get(expected.getKey());
      assertEquals(DefaultModelSignatures.PREDICT_METHOD, signature.methodName());
      Signature.TensorDescription input = signature.getInputs().get(DefaultModelSignatures.INPUT);
      assertEquals(DataType.DT_UINT8, input.dataType);
      // Shape.equals treats unknown dimensions as unequal, so compare the dimension lists
      assertArrayEquals(new long[] {-1, -1, -1, 3}, input.shape.asArray());
      assertEquals(1, signature.getOutputs().size());
      Signature.TensorDescription output = signature.getOutputs().values().iterator().next();
      assertEquals(DataType.DT_FLOAT, output.dataType);
      assertArrayEquals(new long[] {-1, expected.getValue()}, output.shape.asArray(), expected.getKey());
    }
    assertEquals(DefaultModelSignatures.EMBEDDING,
        signatures.get(DefaultModelSignatures.SERVING_DEFAULT).getOutputs().keySet().iterator().next());
    assertEquals(DefaultModelSignatures.PROBABILITIES,
        signatures.get(DefaultModelSignatures.CLASSIFY).getOutputs().keySet().iterator().next());
  }

  @ParameterizedTest
  @CsvSource({"1,1", "17,500", "224,224", "480,640", "1024,77"})
  void embeddingsAreUnitVectorsWhateverTheImageSize(int height, int width) {
    for (String signature : List.of(DefaultModelSignatures.SERVING_DEFAULT, DefaultModelSignatures.MIXED7)) {
      float[][] embeddings = runner.run(signature, SyntheticImages.batch(2, height, width));
      assertEquals(2, embeddings.length);
      for (float[] embedding : embeddings) {
        assertEquals(WIDTH.get(signature), embedding.length);
        assertEquals(1.0, norm(embedding), 1e-5, signature + " at " + height + "x" + width);
      }
    }
  }

  @Test
  void batchingDoesNotChangeAnImagesEmbedding() {
    ImageBatch batch = SyntheticImages.batch(3, 150, 200);
    float[][] together = runner.run(DefaultModelSignatures.SERVING_DEFAULT, batch);
    int imageBytes = 150 * 200 * 3;
    for (int b = 0; b < 3; b++) {
      byte[] one = java.util.Arrays.copyOfRange(batch.pixels(), b * imageBytes, (b + 1) * imageBytes);
      float[] alone = runner.run(DefaultModelSignatures.SERVING_DEFAULT, new ImageBatch(one, 1, 150, 200))[0];
      for (int i = 0; i < alone.length; i++) {
        assertEquals(alone[i], together[b][i], 1e-5, "image " + b + " component " + i);
      }
    }
  }

  @Test
  void differentImagesGetDifferentEmbeddings() {
    float[][] embeddings = runner.run(DefaultModelSignatures.SERVING_DEFAULT, SyntheticImages.batch(3, 224, 224));
    for (int a = 0; a < 3; a++) {
      for (int b = a + 1; b < 3; b++) {
        double cosine = 0;
        for (int i = 0; i < embeddings[a].length; i++) {
          cosine += embeddings[a][i] * embeddings[b][i];
        }
        assertTrue(cosine < 0.999, "images " + a + " and " + b + " collapse to cosine " + cosine);
      }
    }
  }

  @Test
  void mixed10HasItsOwnWidthAndClassifierReturnsADistribution() {
    ImageBatch images = SyntheticImages.batch(4, 320, 240);
    for (float[] row : runner.run(DefaultModelSignatures.MIXED10, images)) {
      assertEquals(2048, row.length);
      assertEquals(1.0, norm(row), 1e-5);
    }
    float[][] probabilities = runner.run(DefaultModelSignatures.CLASSIFY, images);
    assertEquals(4, probabilities.length);
    for (float[] row : probabilities) {
      assertEquals(DefaultModelSignatures.CLASSES.size(), row.length);
      double sum = 0;
      for (float p : row) {
        assertTrue(p >= 0 && p <= 1, "probability " + p);
        sum += p;
      }
      assertEquals(1.0, sum, 1e-5);
    }
  }

  @Test
  void rejectsImagesThatAreNotRgbWithAnErrorInsteadOfACrash() {
    try (TUint8 rgba = TUint8.tensorOf(Shape.of(1, 8, 8, 4))) {
      assertThrows(RuntimeException.class, () -> runner.bundle()
          .function(DefaultModelSignatures.SERVING_DEFAULT)
          .call(Map.of(DefaultModelSignatures.INPUT, rgba))
          .close());
    }
    // and the model keeps serving afterwards
    assertEquals(1, runner.run(DefaultModelSignatures.SERVING_DEFAULT, SyntheticImages.batch(1, 32, 32)).length);
  }

  private static double norm(float[] v) {
    double sum = 0;
    for (float x : v) {
      sum += (double) x * x;
    }
    return Math.sqrt(sum);
  }
}
