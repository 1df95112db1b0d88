package io.visualsearch.searchapi.image;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;

/**
 * A minimal lossless JPEG (SOF3, ITU T.81 annex H) encoder: the JDK cannot write one and no
 * fixture is committed. 8-bit samples, three components (R, G, B, one sample each per MCU, as
 * camera raw and medical files store them) or one (grey), predictor 1 (the sample to the left),
 * one Huffman table (the standard DC luminance one, categories 0 to 11), no restart intervals.
 */
final class LosslessJpeg {

  private static final int[] BITS = {0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0};
  private static final int[] CATEGORIES = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};

  private LosslessJpeg() {}

  /** The image's R, G, B samples, or its grey (the red channel) when {@code grey}. */
  static byte[] encode(BufferedImage img, boolean grey) {
    int w = img.getWidth();
    int h = img.getHeight();
    int n = grey ? 1 : 3;
    int[][] samples = new int[n][w * h];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int rgb = img.getRGB(x, y);
        for (int c = 0; c < n; c++) {
          samples[c][y * w + x] = (rgb >> (16 - 8 * c)) & 0xFF;
        }
      }
    }
    int[] code = new int[12];
    int[] length = new int[12];
    int next = 0;
    int k = 0;
    for (int bits = 1; bits <= 16; bits++) {
      for (int i = 0; i < BITS[bits - 1]; i++) {
        code[CATEGORIES[k]] = next++;
        length[CATEGORIES[k++]] = bits;
      }
      next <<= 1;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    marker(out, 0xD8);
    marker(out, 0xC3); // SOF3: lossless, Huffman
    u16(out, 8 + 3 * n);
    out.write(8);
    u16(out, h);
    u16(out, w);
    out.write(n);
    for (int c = 0; c < n; c++) {
      out.write(c + 1);
      out.write(0x11);
      out.write(0);
    }
    marker(out, 0xC4); // DHT: DC class, table 0
    u16(out, 2 + 1 + 16 + CATEGORIES.length);
    out.write(0x00);
    for (int b : BITS) {
      out.write(b);
    }
    for (int v : CATEGORIES) {
      out.write(v);
    }
    marker(out, 0xDA); // SOS
    u16(out, 6 + 2 * n);
    out.write(n);
    for (int c = 0; c < n; c++) {
      out.write(c + 1);
      out.write(0x00);
    }
    out.write(1); // Ss: predictor 1
    out.write(0); // Se
    out.write(0); // Ah, Al (no point transform)
    Bits bits = new Bits(out);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        for (int c = 0; c < n; c++) {
          int[] s = samples[c];
          int predicted = x == 0 && y == 0 ? 128 : y == 0 || x > 0 ? s[y * w + x - 1] : s[(y - 1) * w];
          int diff = s[y * w + x] - predicted;
          int category = diff == 0 ? 0 : 32 - Integer.numberOfLeadingZeros(Math.abs(diff));
          bits.put(code[category], length[category]);
          if (category > 0) {
            bits.put(diff > 0 ? diff : diff - 1, category);
          }
        }
      }
    }
    bits.flush();
    marker(out, 0xD9);
    return out.toByteArray();
  }

  private static void marker(ByteArrayOutputStream out, int marker) {
    out.write(0xFF);
    out.write(marker);
  }

  private static void u16(ByteArrayOutputStream out, int v) {
    out.write(v >> 8);
    out.write(v);
  }

  /** Entropy-coded bits, most significant first, 0xFF stuffed with 0x00, padded with ones. */
  private static final class Bits {
    private final ByteArrayOutputStream out;
    private int buffer;
    private int count;

    Bits(ByteArrayOutputStream out) {
      this.out = out;
    }

    void put(int value, int n) {
      for (int i = n - 1; i >= 0; i--) {
        buffer = (buffer << 1) | ((value >> i) & 1);
        if (++count == 8) {
          emit();
        }
      }
    }

    void flush() {
      while (count != 0) {
        put(1, 1);
      }
    }

    private void emit() {
      out.write(buffer);
      if (buffer == 0xFF) {
        out.write(0);
      }
      buffer = 0;
      count = 0;
    }
  }
}
