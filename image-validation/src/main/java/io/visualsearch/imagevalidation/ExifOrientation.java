package io.visualsearch.imagevalidation;

import com.twelvemonkeys.imageio.metadata.Directory;
import com.twelvemonkeys.imageio.metadata.Entry;
import com.twelvemonkeys.imageio.metadata.jpeg.JPEG;
import com.twelvemonkeys.imageio.metadata.jpeg.JPEGSegment;
import com.twelvemonkeys.imageio.metadata.jpeg.JPEGSegmentUtil;
import com.twelvemonkeys.imageio.metadata.tiff.TIFF;
import com.twelvemonkeys.imageio.metadata.tiff.TIFFReader;
import com.twelvemonkeys.imageio.stream.ByteArrayImageInputStream;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import javax.imageio.stream.ImageInputStream;

/**
 * EXIF orientation (TIFF tag 274) of a JPEG, read with TwelveMonkeys' segment and TIFF readers,
 * and the pixel transform that makes the image upright. Phones store portrait photos as
 * landscape pixels plus this tag; ignoring it indexes products lying on their side.
 */
final class ExifOrientation {

  static final int NORMAL = 1;

  private ExifOrientation() {}

  /** 1..8, or {@link #NORMAL} when absent or unreadable (metadata damage must not reject a photo). */
  static int read(byte[] jpeg) {
    try (ImageInputStream in = new ByteArrayImageInputStream(jpeg)) {
      List<JPEGSegment> segments = JPEGSegmentUtil.readSegments(in, JPEG.APP1, "Exif");
      if (segments.isEmpty()) {
        return NORMAL;
      }
      byte[] tiff;
      try (InputStream data = segments.get(0).data()) {
        tiff = data.readAllBytes();
      }
      int start = 0;
      while (start < tiff.length && tiff[start] == 0) {
        start++; // the NUL pad after the "Exif" identifier
      }
      try (ImageInputStream exif = new ByteArrayImageInputStream(tiff, start, tiff.length - start)) {
        Directory directory = new TIFFReader().read(exif);
        Entry entry = directory.getEntryById(TIFF.TAG_ORIENTATION);
        if (entry == null || !(entry.getValue() instanceof Number n)) {
          return NORMAL;
        }
        int value = n.intValue();
        return value >= 1 && value <= 8 ? value : NORMAL;
      }
    } catch (IOException | RuntimeException e) {
      return NORMAL;
    }
  }

  /** Returns the upright image for an orientation value (a new image unless NORMAL). */
  static BufferedImage apply(BufferedImage src, int orientation) {
    if (orientation == NORMAL) {
      return src;
    }
    int w = src.getWidth();
    int h = src.getHeight();
    boolean swap = orientation >= 5;
    BufferedImage dst = new BufferedImage(swap ? h : w, swap ? w : h, BufferedImage.TYPE_INT_RGB);
    int[] row = new int[w];
    for (int y = 0; y < h; y++) {
      src.getRGB(0, y, w, 1, row, 0, w);
      for (int x = 0; x < w; x++) {
        int dx;
        int dy;
        switch (orientation) {
          case 2 -> { dx = w - 1 - x; dy = y; }          // mirrored
          case 3 -> { dx = w - 1 - x; dy = h - 1 - y; }  // rotated 180
          case 4 -> { dx = x; dy = h - 1 - y; }          // mirrored vertically
          case 5 -> { dx = y; dy = x; }                  // transposed
          case 6 -> { dx = h - 1 - y; dy = x; }          // needs 90 clockwise
          case 7 -> { dx = h - 1 - y; dy = w - 1 - x; }  // transversed
          case 8 -> { dx = y; dy = w - 1 - x; }          // needs 90 counter-clockwise
          default -> throw new IllegalArgumentException("orientation " + orientation);
        }
        dst.setRGB(dx, dy, row[x]);
      }
    }
    return dst;
  }
}
