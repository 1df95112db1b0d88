package io.visualsearch.imagevalidation;

/**
 * What a walk of a JPEG's markers finds: the scans before its end marker (EOI) and whether it
 * reaches one. Searching the bytes for FF DA and FF D9 instead would count whatever follows EOI,
 * such as the video a phone appends to a "motion photo", and the image would be refused as cut
 * short or as having too many scans. Segments are skipped by their lengths, so an EXIF
 * thumbnail (inside APP1) is not walked either.
 *
 * @param scans start-of-scan segments (FF DA) before the first EOI
 * @param complete whether the walk reaches EOI; a file cut short ends before it
 */
record JpegStructure(int scans, boolean complete) {

  static JpegStructure of(byte[] jpeg) {
    int scans = 0;
    int at = 2; // after SOI
    while (at + 1 < jpeg.length) {
      int marker = jpeg[at + 1] & 0xFF;
      if ((jpeg[at] & 0xFF) != 0xFF || marker == 0xFF) {
        at++; // stray bytes or fill before a marker: decoders skip them too (with a warning)
      } else if (marker == 0xD9) {
        return new JpegStructure(scans, true);
      } else if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
        at += 2; // TEM and RSTn stand alone, without a length
      } else if (at + 3 >= jpeg.length) {
        break;
      } else {
        at += 2 + (((jpeg[at + 2] & 0xFF) << 8) | (jpeg[at + 3] & 0xFF));
        if (marker == 0xDA) {
          scans++;
          at = endOfEntropyCodedData(jpeg, at);
        }
      }
    }
    return new JpegStructure(scans, false);
  }

  /**
   * Where the entropy-coded data after a scan header ends: the next FF that starts a marker. In
   * that data FF is followed by 00 (a stuffed FF byte), by D0 to D7 (restart markers) or by
   * another FF (fill), never by anything else.
   */
  private static int endOfEntropyCodedData(byte[] jpeg, int from) {
    for (int i = from; i + 1 < jpeg.length; i++) {
      int next = jpeg[i + 1] & 0xFF;
      if ((jpeg[i] & 0xFF) == 0xFF && next != 0x00 && next != 0xFF && (next < 0xD0 || next > 0xD7)) {
        return i;
      }
    }
    return jpeg.length;
  }
}
