package io.visualsearch.searchapi;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;

/** Encoded test pictures: a coloured rectangle on a background, as a product photo would be. */
public final class TestImages {

  private TestImages() {}

  public static BufferedImage picture(int w, int h, Color background, Color product) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(background);
    g.fillRect(0, 0, w, h);
    g.setColor(product);
    g.fillRect(w / 4, h / 4, w / 2, h / 2);
    g.dispose();
    return img;
  }

  public static byte[] encode(BufferedImage img, String format) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      if (!ImageIO.write(img, format, out)) {
        throw new IllegalStateException("no writer for " + format);
      }
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static byte[] jpeg(int w, int h, Color background, Color product) {
    return encode(picture(w, h, background, product), "jpeg");
  }

  public static byte[] png(int w, int h, Color background, Color product) {
    return encode(picture(w, h, background, product), "png");
  }

  /** A valid PNG signature and header declaring {@code w × h} pixels, with no pixel data. */
  public static byte[] pngHeader(int w, int h) {
    java.nio.ByteBuffer ihdr = java.nio.ByteBuffer.allocate(17);
    ihdr.put("IHDR".getBytes()).putInt(w).putInt(h).put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(ihdr.array());
    java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(8 + 4 + 17 + 4);
    out.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A});
    out.putInt(13).put(ihdr.array()).putInt((int) crc.getValue());
    return out.array();
  }}
