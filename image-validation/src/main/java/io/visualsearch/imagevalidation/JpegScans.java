package io.visualsearch.imagevalidation;

import java.util.Optional;

/**
 * The scan count of a JPEG and the most a decoder here accepts. Every scan of a progressive JPEG
 * is another pass over every block of the image, so a few kilobytes of repeated scan headers can
 * cost minutes of decoding: 200 copies of one 31-byte scan turned a 0.4 s decode of a
 * 16-megapixel JPEG into 9 s (RATIONALE.md). Both the catalog's validator and search-api's query
 * decoder refuse more than {@link #MAX} before decoding.
 */
public final class JpegScans {

  /** libjpeg writes 10 scans for a progressive colour JPEG and 6 for grey; this leaves tuned encoders room. */
  public static final int MAX = 100;

  private JpegScans() {}

  /**
   * The scans of the image up to its end marker (EOI), found by walking its marker structure:
   * whatever follows EOI (a motion photo's video, a second picture) and an EXIF thumbnail inside
   * its APP1 segment are not scans of this image.
   */
  public static int count(byte[] jpeg) {
    return JpegStructure.of(jpeg).scans();
  }

  /** What to tell the sender when the JPEG has more than {@link #MAX} scans; empty when it may be decoded. */
  public static Optional<String> refusal(byte[] jpeg) {
    int scans = count(jpeg);
    if (scans <= MAX) {
      return Optional.empty();
    }
    return Optional.of("the JPEG has " + scans + " scans; at most " + MAX
        + " are accepted (encoders write 1, or about 10 for a progressive JPEG): re-encode it");
  }
}
