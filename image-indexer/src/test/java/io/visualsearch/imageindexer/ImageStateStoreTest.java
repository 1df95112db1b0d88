package io.visualsearch.imageindexer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.imagevalidation.ValidationPolicy;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ImageStateStoreTest {

  @Test
  void stateRoundTripsIncludingAbsentValidators() {
    ImageState s = new ImageState("https://img.example/1.jpg", "\"v1\"", null, "0123456789abcdef".repeat(4), 512, 384,
        new Normalisation(1024, 3));
    assertEquals(Optional.of(s), ImageStateStore.decode(ImageStateStore.encode(s)));
    assertTrue(new String(ImageStateStore.encode(s), StandardCharsets.UTF_8)
        .contains("\"normalisation\":{\"max_side\":1024,\"version\":3}"));
  }

  @Test
  void stateWrittenBeforeTheNormalisationWasRecordedReadsAsTheDefaultSideAndFirstVersion() {
    // Exactly what the release before wrote: no normalisation field.
    String json = "{\"image_link\":\"https://x/1.jpg\",\"etag\":null,\"last_modified\":null,\"sha256\":\""
        + "b".repeat(64) + "\",\"width\":64,\"height\":48}";
    ImageState old = ImageStateStore.decode(json.getBytes(StandardCharsets.UTF_8)).orElseThrow();
    assertEquals(new Normalisation(512, 1), old.normalisation());
    assertEquals(Refresh.REUSE, Refresh.decide(Optional.of(old), "https://x/1.jpg",
        Normalisation.of(ValidationPolicy.defaults())), "default settings: reused, no catalog-wide re-fetch");
    assertEquals(Refresh.RENORMALISE, Refresh.decide(Optional.of(old), "https://x/1.jpg",
        Normalisation.of(ValidationPolicy.defaults().withMaxOutputSide(1024))));
  }

  @Test
  void unreadableOrIncompleteStateCountsAsNoState() {
    assertTrue(ImageStateStore.decode("not json".getBytes(StandardCharsets.UTF_8)).isEmpty());
    assertTrue(ImageStateStore.decode("{\"image_link\":\"https://x/1.jpg\"}".getBytes(StandardCharsets.UTF_8))
        .isEmpty());
    assertTrue(ImageStateStore.decode("{\"image_link\":\"https://x/1.jpg\",\"sha256\":\"../../etc\"}"
        .getBytes(StandardCharsets.UTF_8)).isEmpty());
  }

  @Test
  void fieldsFromANewerVersionAreIgnored() {
    String json = "{\"image_link\":\"https://x/1.jpg\",\"sha256\":\"" + "b".repeat(64)
        + "\",\"width\":3,\"height\":4,\"added_later\":true}";
    assertEquals("https://x/1.jpg", ImageStateStore.decode(json.getBytes(StandardCharsets.UTF_8)).orElseThrow()
        .imageLink());
  }

  @Test
  void skusCannotShapeTheObjectKey() {
    assertEquals("image-state/acme/fm-000123", ImageStateStore.key("acme", "fm-000123"));
    assertEquals("image-state/acme/a%2F..%2Fb", ImageStateStore.key("acme", "a/../b"));
    // A whole segment of dots is a path step to S3 and HTTP: never a key's last segment.
    assertEquals("image-state/acme/%2E%2E", ImageStateStore.key("acme", ".."));
    assertEquals("image-state/acme/%2E", ImageStateStore.key("acme", "."));
    assertEquals("image-state/acme/...", ImageStateStore.key("acme", "..."));
    assertNotEquals(ImageStateStore.key("acme", ".."), ImageStateStore.key("acme", "%2E%2E"));
    assertNotEquals(ImageStateStore.key("acme", "a b"), ImageStateStore.key("acme", "a+b"));
  }
}
