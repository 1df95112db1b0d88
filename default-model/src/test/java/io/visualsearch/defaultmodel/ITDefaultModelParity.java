package io.visualsearch.defaultmodel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The exported SavedModel against the original model: reference outputs computed once by
 * TensorFlow.js's pure-JavaScript CPU backend running nsfwjs itself
 * ({@code src/test/resources/reference/make-reference.cjs}), on the same synthetic pixels.
 */
class ITDefaultModelParity {

  /** Float32 results of two different summation orders over ~100 layers still agree to this. */
  private static final double TOLERANCE = 1e-5;

  private static DefaultModelRunner runner;

  @BeforeAll
  static void load() {
    runner = DefaultModelRunner.load(Path.of(System.getProperty("defaultmodel.savedModel")));
  }

  @AfterAll
  static void close() {
    runner.close();
  }

  @TestFactory
  List<DynamicTest> matchesTensorFlowJs() throws IOException {
    JsonNode reference;
    try (InputStream in = ITDefaultModelParity.class.getResourceAsStream("/reference/reference.json")) {
      reference = new ObjectMapper().readTree(in);
    }
    assertEquals("cpu", reference.path("backend").asText(), "reference must come from the pure-JS CPU backend");
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode c : reference.path("cases")) {
      String signature = c.path("signature").asText();
      int batch = c.path("batch").asInt();
      int height = c.path("height").asInt();
      int width = c.path("width").asInt();
      String name = signature + " " + batch + "x" + height + "x" + width;
      tests.add(DynamicTest.dynamicTest(name, () -> {
        float[][] actual = runner.run(signature, SyntheticImages.batch(batch, height, width));
        JsonNode expected = c.path("values");
        assertEquals(expected.size(), actual.length, "batch size");
        double maxDiff = 0;
        for (int b = 0; b < actual.length; b++) {
          assertEquals(expected.get(b).size(), actual[b].length, "output width");
          for (int i = 0; i < actual[b].length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(actual[b][i] - expected.get(b).get(i).asDouble()));
          }
        }
        System.out.printf("parity %s %s max_abs_diff=%.3g%n", name, c.path("output").asText(), maxDiff);
        assertTrue(maxDiff <= TOLERANCE, name + ": max abs difference " + maxDiff + " > " + TOLERANCE);
      }));
    }
    return tests;
  }
}
