package io.visualsearch.imageindexer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.imagefetch.FailureCode;
import io.visualsearch.imagefetch.FetchResult;
import io.visualsearch.imagevalidation.RejectReason;
import io.visualsearch.imagevalidation.ValidationResult;
import io.visualsearch.pipeline.PoisonRecordException;
import org.junit.jupiter.api.Test;

class RejectionsTest {

  static final String LINK = "https://img.example/p/1.jpg";

  @Test
  void aMissingImageNamesTheLinkAndTheStatus() {
    PoisonRecordException e = Rejections.fetchFailed(LINK, new FetchResult.Failed(FailureCode.NOT_FOUND,
        "the image URL answered HTTP 404: check image_link in the feed", false, 404));
    assertEquals("image-fetch-not-found", e.reason());
    assertTrue(e.getMessage().startsWith("image_link " + LINK + " cannot be downloaded"), e.getMessage());
    assertTrue(e.getMessage().contains("HTTP 404"), e.getMessage());
  }

  @Test
  void aBlockedAddressKeepsTheGuardsExplanation() {
    PoisonRecordException e = Rejections.fetchFailed(LINK, new FetchResult.Failed(FailureCode.BLOCKED_ADDRESS,
        "the image URL points at a non-public address: 169.254.169.254 is link-local", false, 0));
    assertEquals("image-fetch-blocked-address", e.reason());
    assertTrue(e.getMessage().contains("169.254.169.254"), e.getMessage());
  }

  @Test
  void aRefusedImageSaysWhyInTheValidatorsWords() {
    PoisonRecordException e = Rejections.rejected(LINK, new ValidationResult.Rejected(RejectReason.TOO_MANY_PIXELS,
        "the png declares 50000x50000 = 2500000000 pixels, above the limit of 50000000"));
    assertEquals("image-rejected-too-many-pixels", e.reason());
    assertTrue(e.getMessage().contains(LINK) && e.getMessage().contains("50000x50000"), e.getMessage());
  }

  @Test
  void givingUpOnAFailingHostSaysHowOftenItWasTried() {
    PoisonRecordException e = Rejections.gaveUp(LINK, new FetchResult.Failed(FailureCode.HTTP_SERVER_ERROR,
        "the image server answered HTTP 503 (server error)", true, 503), 5);
    assertEquals("image-host-unavailable", e.reason());
    assertTrue(e.getMessage().contains("after 5 rounds") && e.getMessage().contains("HTTP 503"), e.getMessage());
  }

  @Test
  void aProductWithoutAnImageLinkIsTold() {
    assertEquals("missing-image-link", Rejections.noImageLink().reason());
  }

  @Test
  void hugeLinksAreCutSoTheDeadLetterHeaderStaysSmall() {
    String link = "https://img.example/" + "x".repeat(100_000);
    PoisonRecordException e = Rejections.fetchFailed(link, new FetchResult.Failed(FailureCode.BAD_URL, "bad", false, 0));
    assertTrue(e.getMessage().length() < 1_000, "message length " + e.getMessage().length());
  }
}
