package io.visualsearch.imageindexer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class RefreshTest {

  static final String SHA = "a".repeat(64);
  static final String LINK = "https://img.example/1.jpg";

  /** What the default settings produce now: IMAGE_MAX_SIDE 512, this release's normaliser. */
  static final Normalisation NOW = new Normalisation(512, Normalisation.VERSION);

  static Optional<ImageState> state(String link, String etag, String lastModified) {
    return state(link, etag, lastModified, NOW);
  }

  static Optional<ImageState> state(String link, String etag, String lastModified, Normalisation made) {
    return Optional.of(new ImageState(link, etag, lastModified, SHA, 10, 10, made));
  }

  @Test
  void aProductSeenForTheFirstTimeIsDownloaded() {
    assertEquals(Refresh.DOWNLOAD, Refresh.decide(Optional.empty(), LINK, NOW));
  }

  @Test
  void aChangedImageLinkIsDownloadedEvenWithValidators() {
    assertEquals(Refresh.DOWNLOAD, Refresh.decide(state("https://img.example/old.jpg", "\"v1\"", null), LINK, NOW));
  }

  @Test
  void theSameLinkWithAnEtagOrLastModifiedIsAConditionalGet() {
    assertEquals(Refresh.CONDITIONAL, Refresh.decide(state(LINK, "\"v1\"", null), LINK, NOW));
    assertEquals(Refresh.CONDITIONAL, Refresh.decide(state(LINK, null, "Tue, 01 Apr 2025 10:00:00 GMT"), LINK, NOW));
  }

  @Test
  void theSameLinkWithoutValidatorsReusesTheStoredImage() {
    assertEquals(Refresh.REUSE, Refresh.decide(state(LINK, null, null), LINK, NOW));
  }

  @Test
  void linksAreComparedExactly() {
    // A different query string can be a different image on a CDN.
    assertEquals(Refresh.DOWNLOAD, Refresh.decide(state(LINK, "\"v1\"", null), LINK + "?w=800", NOW));
  }

  @Test
  void aCopyNormalisedToAnotherMaxSideIsFetchedAgainWhateverTheValidators() {
    Normalisation at1024 = new Normalisation(1024, Normalisation.VERSION);
    assertEquals(Refresh.RENORMALISE, Refresh.decide(state(LINK, null, null), LINK, at1024),
        "no validators: not reused");
    assertEquals(Refresh.RENORMALISE, Refresh.decide(state(LINK, "\"v1\"", null), LINK, at1024),
        "validators: no conditional GET, whose 304 would keep the old copy");
    assertEquals(Refresh.DOWNLOAD, Refresh.decide(state(LINK + "?v=2", null, null), LINK, at1024),
        "a new link is a download as before");
  }

  @Test
  void aCopyOfAnEarlierNormaliserVersionIsFetchedAgain() {
    Normalisation next = new Normalisation(512, Normalisation.VERSION + 1);
    assertEquals(Refresh.RENORMALISE, Refresh.decide(state(LINK, null, null), LINK, next));
  }

  @Test
  void onlyARenormalisationAndAConditionalGetRefreshAStoredCopy() {
    assertTrue(Refresh.RENORMALISE.refreshesStored());
    assertTrue(Refresh.CONDITIONAL.refreshesStored());
    assertFalse(Refresh.DOWNLOAD.refreshesStored());
    assertFalse(Refresh.REUSE.refreshesStored());
  }
}
