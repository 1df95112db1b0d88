package io.visualsearch.imageindexer;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import javax.imageio.ImageIO;

/** Product images for the integration tests, generated so every run sees the same bytes. */
final class TestImages {

  private TestImages() {}

  /** A small product photo: a coloured shape on white, different per colour. */
  static byte[] png(Color color) {
    BufferedImage img = new BufferedImage(64, 48, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, 64, 48);
    g.setColor(color);
    g.fillOval(8, 4, 48, 40);
    g.dispose();
    return encode(img, "png");
  }

  static byte[] jpeg(Color color) {
    BufferedImage img = new BufferedImage(40, 40, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(color);
    g.fillRect(0, 0, 40, 40);
    g.dispose();
    return encode(img, "jpeg");
  }

  static byte[] truncated(byte[] data) {
    return Arrays.copyOf(data, data.length * 2 / 3);
  }

  static byte[] html() {
    return "<!doctype html><html><body><h1>Image not available</h1></body></html>".getBytes(StandardCharsets.UTF_8);
  }

  /**
   * A well-formed PNG whose header declares {@code width} x {@code height} RGB pixels but whose
   * data is a few hundred bytes: a decoder that trusted the header would allocate gigabytes.
   */
  static byte[] pngDeclaring(int width, int height) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      DataOutputStream out = new DataOutputStream(bytes);
      out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
      ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
      DataOutputStream h = new DataOutputStream(ihdr);
      h.writeInt(width);
      h.writeInt(height);
      h.write(new byte[] {8, 2, 0, 0, 0}); // 8-bit, truecolour, deflate, no filter, no interlace
      chunk(out, "IHDR", ihdr.toByteArray());
      chunk(out, "IDAT", deflate(new byte[64 * 1024]));
      chunk(out, "IEND", new byte[0]);
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void chunk(DataOutputStream out, String type, byte[] data) throws IOException {
    byte[] t = type.getBytes(StandardCharsets.US_ASCII);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    out.writeInt(data.length);
    out.write(t);
    out.write(data);
    out.writeInt((int) crc.getValue());
  }

  private static byte[] deflate(byte[] data) {
    Deflater d = new Deflater();
    d.setInput(data);
    d.finish();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    while (!d.finished()) {
      out.write(buf, 0, d.deflate(buf));
    }
    d.end();
    return out.toByteArray();
  }

  private static byte[] encode(BufferedImage img, String format) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ImageIO.write(img, format, out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
