package io.visualsearch.benchmarks.ann;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddingCacheTest {

  @TempDir
  Path dir;

  @Test
  void eachModelHasItsOwnCacheFile() throws IOException {
    Path cache = dir.resolve("cache");
    Path v1 = model("default/1", "graph one", null);
    Path v2 = model("default/2", "graph two", null);
    Path v1Again = model("elsewhere/1", "graph one", null);
    assertNotEquals(EmbeddingCache.fileFor(cache, v1, "serving_default", 768),
        EmbeddingCache.fileFor(cache, v2, "serving_default", 768));
    // The same model copied elsewhere keeps the vectors already paid for.
    assertEquals(EmbeddingCache.fileFor(cache, v1, "serving_default", 768),
        EmbeddingCache.fileFor(cache, v1Again, "serving_default", 768));
    assertEquals(cache, EmbeddingCache.fileFor(cache, v1, "serving_default", 768).getParent());
  }

  @Test
  void retrainedWeightsInVariablesAreAnotherModel() throws IOException {
    // A fine-tuned version can keep the graph and change only its variables.
    Path before = model("a/1", "same graph", "weights before");
    Path after = model("b/1", "same graph", "weights after");
    assertNotEquals(EmbeddingCache.fileFor(dir, before, "serving_default", 768),
        EmbeddingCache.fileFor(dir, after, "serving_default", 768));
  }

  @Test
  void aDirectoryWithoutASavedModelIsRefused() {
    assertThrows(IOException.class, () -> EmbeddingCache.fileFor(dir, dir.resolve("none"), "serving_default", 768));
  }

  private Path model(String name, String graph, String variables) throws IOException {
    Path m = Files.createDirectories(dir.resolve(name));
    Files.writeString(m.resolve("saved_model.pb"), graph, StandardCharsets.UTF_8);
    if (variables != null) {
      Files.createDirectories(m.resolve("variables"));
      Files.writeString(m.resolve("variables/variables.index"), "index", StandardCharsets.UTF_8);
      Files.writeString(m.resolve("variables/variables.data-00000-of-00001"), variables, StandardCharsets.UTF_8);
    }
    return m;
  }
}
