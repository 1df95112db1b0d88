package io.visualsearch.imagevalidation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The decoders' own words (libjpeg through the JDK, TwelveMonkeys), as they warn. */
class DecodeWarningsTest {

  @Test
  void warningsAboutMetadataOrRecoveredBytesLeaveThePixelsWhole() {
    for (String w : List.of(
        "Bad 'ICC_PROFILE' chunk(s): Truncated ICC profile data, length < 128. Ignoring ICC profile.",
        "ICC profile is Perceptual, ignoring, treating as Display class",
        "JFXX segment truncated, ignoring thumbnail",
        "Truncated JFIF thumbnail",
        "No embedded ICC color profile, defaulting to \"generic\" CMYK profile",
        "Corrupt JPEG data: 3 extraneous bytes before marker 0xd9",
        "Corrupt JPEG data: Bad segment length")) {
      assertEquals(Optional.empty(), DecodeWarnings.pixelsDamaged(List.of(w)), w);
    }
  }

  @Test
  void dataCutShortOrSkippedIsDamage() {
    List<String> cutShort = List.of("Premature end of JPEG file", "Corrupt JPEG data: premature end of data segment");
    for (String w : cutShort) {
      assertEquals(Optional.of(w), DecodeWarnings.dataCutShort(List.of(w)), w);
      assertEquals(Optional.of(w), DecodeWarnings.pixelsDamaged(List.of(w)), w);
    }
    for (String w : List.of("Corrupt JPEG data: bad Huffman code",
        "Corrupt JPEG data: found marker 0xd4 instead of RST2")) {
      assertEquals(Optional.empty(), DecodeWarnings.dataCutShort(List.of(w)), "garbled, not cut short: " + w);
      assertEquals(Optional.of(w), DecodeWarnings.pixelsDamaged(List.of(w)), w);
    }
    // The first damaging warning is named, past any harmless one before it.
    assertEquals(Optional.of("Corrupt JPEG data: bad Huffman code"), DecodeWarnings.pixelsDamaged(List.of(
        "Corrupt JPEG data: 3 extraneous bytes before marker 0xd9", "Corrupt JPEG data: bad Huffman code")));
  }
}
