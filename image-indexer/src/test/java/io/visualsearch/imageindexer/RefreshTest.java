package io.visualsearch.imageindexer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class RefreshTest {

  static final String SHA = "a".repeat(64);
  static final String LINK = "https://img.example/1.jpg";

  static Optional<ImageState> state(String link, String etag, String lastModified) {
    return Optional.of(new ImageState(link, etag, lastModified, SHA, 10, 10));
  }

  @Test
  void aProductSeenForTheFirstTimeIsDownloaded() {
    assertEquals(Refresh.DOWNLOAD, Refresh.decide(Optional.empty(), LINK));
  }

  @Test
  void aChangedImageLinkIsDownloadedEvenWithValidators() {
    assertEquals(Refresh.DOWNLOAD, Refresh.decide(state("https://img.example/old.jpg", "\"v1\"", null), LINK));
  }

  @Test
  void theSameLinkWithAnEtagOrLastModifiedIsAConditionalGet() {
    assertEquals(Refresh.CONDITIONAL, Refresh.decide(state(LINK, "\"v1\"", null), LINK));
    assertEquals(Refresh.CONDITIONAL, Refresh.decide(state(LINK, null, "Tue, 01 Apr 2025 10:00:00 GMT"), LINK));
  }

  @Test
  void theSameLinkWithoutValidatorsReusesTheStoredImage() {
    assertEquals(Refresh.REUSE, Refresh.decide(state(LINK, null, null), LINK));
  }

  @Test
  void linksAreComparedExactly() {
    // A different query string can be a different image on a CDN.
    assertEquals(Refresh.DOWNLOAD, Refresh.decide(state(LINK, "\"v1\"", null), LINK + "?w=800"));
  }
}
