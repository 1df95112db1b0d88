package io.visualsearch.modelclient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class VectorVariantTest {

  @Test
  void aNameReadsBackGivenItsSignatureEvenWithDotsInSignatureOrOutput() {
    for (VectorVariant v : new VectorVariant[] {
        new VectorVariant("serving_default", "embedding", 224, true),
        new VectorVariant("mixed.7", "pool.out:0", 299, false),
        new VectorVariant("s", "o", 32, true)}) {
      assertEquals(Optional.of(v), VectorVariant.parse(v.name(), v.signature()), v.name());
    }
    assertEquals("serving_default.embedding.224px.as-is", new VectorVariant("serving_default", "embedding", 224, true).name());
    assertEquals("mixed7.embedding.299px.resized", new VectorVariant("mixed7", "embedding", 299, false).name());
  }

  @Test
  void aNameThatIsNotOneForItsSignatureIsNotGuessedAt() {
    for (String[] bad : new String[][] {
        {"serving_default.embedding.224px.as-is", "mixed7"},
        {"serving_default.embedding.224px.as-is", ""},
        {"serving_default.embedding.224px.as-is", null},
        {null, "serving_default"},
        {"serving_default.embedding.224px", "serving_default"},
        {"serving_default.embedding.224.as-is", "serving_default"},
        {"serving_default.embedding.0224px.as-is", "serving_default"},
        {"serving_default.embedding.224px.squashed", "serving_default"},
        {"serving_default..224px.as-is", "serving_default"},
        {"serving_default.224px.as-is", "serving_default"}}) {
      assertTrue(VectorVariant.parse(bad[0], bad[1]).isEmpty(), bad[0] + " / " + bad[1]);
    }
  }
}
