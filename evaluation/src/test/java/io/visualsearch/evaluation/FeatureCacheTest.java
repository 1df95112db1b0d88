package io.visualsearch.evaluation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FeatureCacheTest {

  @TempDir Path dir;

  private static LabeledImages images(int count) {
    byte[] pixels = new byte[count * 4];
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = (byte) (i * 37 + 11);
    }
    return new LabeledImages(pixels, new int[count], 2, 2);
  }

  @Test
  void aSecondRunReadsWhatTheFirstComputed() throws IOException {
    FeatureCache cache = new FeatureCache(dir);
    RawPixelEmbedder embedder = new RawPixelEmbedder(2, 2);
    AtomicInteger supplied = new AtomicInteger();
    Features first = cache.getOrCompute(embedder, "set", () -> {
      supplied.incrementAndGet();
      return images(5);
    });
    Features second = cache.getOrCompute(embedder, "set", () -> {
      supplied.incrementAndGet();
      return images(5);
    });
    assertEquals(1, supplied.get(), "the images are only needed once");
    assertArrayEquals(first.rows(), second.rows());
    assertEquals(4, second.dim());
  }

  @Test
  void subsetsAreSlicedFromACachedWholeSplit() throws IOException {
    FeatureCache cache = new FeatureCache(dir);
    RawPixelEmbedder embedder = new RawPixelEmbedder(2, 2);
    LabeledImages all = images(6);
    cache.splitSubset(embedder, "train", 6, new int[] {0, 1, 2, 3, 4, 5}, () -> all);
    int[] subset = {1, 4};
    Features sliced = cache.splitSubset(embedder, "train", 6, subset, () -> {
      throw new AssertionError("must not embed again");
    });
    assertArrayEquals(embedder.embed(all.select(subset)), sliced.rows());
  }

  @Test
  void differentModelsDoNotShareEntries() throws IOException {
    FeatureCache cache = new FeatureCache(dir);
    cache.store("model-a", "set", new Features(new float[] {1, 2}, 2));
    assertTrue(cache.find("model-b", "set").isEmpty());
    assertArrayEquals(new float[] {1, 2}, cache.find("model-a", "set").orElseThrow().rows());
  }
}
