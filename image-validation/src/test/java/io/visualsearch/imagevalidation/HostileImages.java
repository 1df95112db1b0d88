package io.visualsearch.imagevalidation;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Deterministic generator of the image cases (valid and hostile). Formats the JDK cannot write
 * (CMYK JPEG, WebP) are small committed files under src/test/resources/images, made once with
 * ImageMagick and cwebp (see SOURCES.txt there).
 */
public final class HostileImages {

  private HostileImages() {}

  /** Red on the left, blue on the right, a green bar in the top-left corner (shows orientation). */
  public static BufferedImage marker(int w, int h) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.RED);
    g.fillRect(0, 0, w / 2, h);
    g.setColor(Color.BLUE);
    g.fillRect(w / 2, 0, w - w / 2, h);
    g.setColor(Color.GREEN);
    g.fillRect(0, 0, Math.max(1, w / 4), Math.max(1, h / 4));
    g.dispose();
    return img;
  }

  public static byte[] png(BufferedImage img) {
    return write(img, "png", null);
  }

  public static byte[] jpeg(BufferedImage img, boolean progressive) {
    return write(img, "jpeg", progressive ? ImageWriteParam.MODE_DEFAULT : ImageWriteParam.MODE_DISABLED);
  }

  /**
   * A progressive JPEG whose last scan is repeated {@code extraScans} times before the end
   * marker: decoders warn about the odd progression and decode every copy, a pass each.
   */
  public static byte[] jpegWithRepeatedScans(BufferedImage img, int extraScans) {
    byte[] jpeg = jpeg(img, true);
    int lastScan = -1;
    for (int i = 2; i < jpeg.length - 1; i++) {
      if ((jpeg[i] & 0xFF) == 0xFF && (jpeg[i + 1] & 0xFF) == 0xDA) {
        lastScan = i;
      }
    }
    int end = jpeg.length - 2; // the EOI marker
    byte[] scan = Arrays.copyOfRange(jpeg, lastScan, end);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(jpeg, 0, end);
    for (int i = 0; i < extraScans; i++) {
      out.write(scan, 0, scan.length);
    }
    out.write(jpeg, end, 2);
    return out.toByteArray();
  }

  public static byte[] bmp(BufferedImage img) {
    return write(img, "bmp", null);
  }

  /**
   * A 64x48 BMP (Windows 3.x header) whose pixels are {@code payload} stored with
   * {@code compression} (1 RLE8, 4 JPEG, 5 PNG), its header declaring {@code imageSize} bytes of
   * them and the pixels starting {@code pixelOffset} bytes in (a 256-colour palette fills the gap).
   */
  public static byte[] bmpDeclaring(int compression, long imageSize, long pixelOffset, byte[] payload) {
    int palette = compression == 1 ? 1024 : 0;
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(54 + palette + payload.length)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 'B').put((byte) 'M').putInt(b.capacity()).putInt(0).putInt((int) pixelOffset);
    b.putInt(40).putInt(64).putInt(48).putShort((short) 1).putShort((short) (compression == 1 ? 8 : 0))
        .putInt(compression).putInt((int) imageSize).putInt(2835).putInt(2835).putInt(0).putInt(0);
    b.position(54 + palette);
    b.put(payload);
    return b.array();
  }

  public static byte[] tiff(BufferedImage img) {
    return write(img, "tiff", null);
  }

  public static byte[] gif(BufferedImage... frames) {
    ImageWriter writer = ImageIO.getImageWritersByFormatName("gif").next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      writer.setOutput(out);
      writer.prepareWriteSequence(null);
      for (BufferedImage frame : frames) {
        writer.writeToSequence(new IIOImage(indexed(frame), null, null), null);
      }
      writer.endWriteSequence();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      writer.dispose();
    }
    return bytes.toByteArray();
  }

  /** 16 bits per channel RGB, values v * 257 so the 8-bit expectation is exact. */
  public static byte[] png16BitRgb(int w, int h, int r, int g, int b) {
    ComponentColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_sRGB),
        false, false, Transparency.OPAQUE, DataBuffer.TYPE_USHORT);
    WritableRaster raster = cm.createCompatibleWritableRaster(w, h);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        raster.setPixel(x, y, new int[] {r * 257, g * 257, b * 257});
      }
    }
    return png(new BufferedImage(cm, raster, false, null));
  }

  public static byte[] pngGray(int w, int h, int value, boolean sixteenBit) {
    BufferedImage img = new BufferedImage(w, h,
        sixteenBit ? BufferedImage.TYPE_USHORT_GRAY : BufferedImage.TYPE_BYTE_GRAY);
    WritableRaster raster = img.getRaster();
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        raster.setSample(x, y, 0, sixteenBit ? value * 257 : value);
      }
    }
    return png(img);
  }

  /** Left half fully transparent, right half opaque black. */
  public static byte[] pngWithAlpha(int w, int h) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_ARGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, x < w / 2 ? 0x00FF0000 : 0xFF000000);
      }
    }
    return png(img);
  }

  public static byte[] pngPalette(int w, int h) {
    return png(indexed(marker(w, h)));
  }

  /** A valid PNG signature and IHDR declaring width × height, with a token IDAT. */
  public static byte[] pngDeclaring(int width, int height, int bitDepth) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
      ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
      DataOutputStream h = new DataOutputStream(ihdr);
      h.writeInt(width);
      h.writeInt(height);
      h.writeByte(bitDepth);
      h.writeByte(2); // truecolour
      h.writeByte(0);
      h.writeByte(0);
      h.writeByte(0);
      chunk(out, "IHDR", ihdr.toByteArray());
      chunk(out, "IDAT", deflate(new byte[64]));
      chunk(out, "IEND", new byte[0]);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /**
   * A complete, valid width × height RGB PNG of one grey, streamed row by row so the generator
   * itself never holds the raster (it deflates to a few hundred kilobytes).
   */
  public static byte[] pngLargeSolid(int width, int height) {
    ByteArrayOutputStream idat = new ByteArrayOutputStream();
    try (java.util.zip.DeflaterOutputStream z = new java.util.zip.DeflaterOutputStream(idat)) {
      byte[] row = new byte[1 + width * 3];
      Arrays.fill(row, (byte) 0x80);
      row[0] = 0; // filter: none
      for (int y = 0; y < height; y++) {
        z.write(row);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    byte[] header = pngDeclaring(width, height, 8);
    int afterIhdr = 8 + 12 + 13;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.write(header, 0, afterIhdr);
      chunk(out, "IDAT", idat.toByteArray());
      chunk(out, "IEND", new byte[0]);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** A real PNG with an APNG animation-control chunk inserted after IHDR. */
  public static byte[] apng(BufferedImage img) {
    byte[] png = png(img);
    int afterIhdr = 8 + 12 + 13;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.write(png, 0, afterIhdr);
      chunk(out, "acTL", new byte[] {0, 0, 0, 2, 0, 0, 0, 0});
      out.write(png, afterIhdr, png.length - afterIhdr);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** A baseline JPEG whose SOF0 header is patched to declare width × height. */
  public static byte[] jpegDeclaring(int width, int height) {
    byte[] jpeg = jpeg(marker(16, 16), false);
    for (int i = 2; i < jpeg.length - 9; i++) {
      if ((jpeg[i] & 0xFF) == 0xFF && (jpeg[i + 1] & 0xFF) == 0xC0) {
        jpeg[i + 5] = (byte) (height >> 8);
        jpeg[i + 6] = (byte) height;
        jpeg[i + 7] = (byte) (width >> 8);
        jpeg[i + 8] = (byte) width;
        return jpeg;
      }
    }
    throw new IllegalStateException("no SOF0 marker");
  }

  /** The JPEG with an EXIF APP1 segment (big-endian TIFF, one IFD entry) carrying orientation. */
  public static byte[] withExifOrientation(byte[] jpeg, int orientation) {
    ByteArrayOutputStream tiff = new ByteArrayOutputStream();
    try (DataOutputStream t = new DataOutputStream(tiff)) {
      t.write(new byte[] {'M', 'M', 0, 42});
      t.writeInt(8);          // first IFD right after the header
      t.writeShort(1);        // one entry
      t.writeShort(0x0112);   // Orientation
      t.writeShort(3);        // SHORT
      t.writeInt(1);
      t.writeShort(orientation);
      t.writeShort(0);
      t.writeInt(0);          // no next IFD
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return withExif(jpeg, tiff.toByteArray());
  }

  /**
   * The JPEG with a whole second JPEG inside an APP1 segment right after SOI, where EXIF keeps
   * its thumbnail: that JPEG's scans and end marker are not the image's.
   */
  public static byte[] withThumbnail(byte[] jpeg, byte[] thumbnail) {
    return withExif(jpeg, thumbnail);
  }

  /** The JPEG with an EXIF APP1 segment holding {@code payload} right after SOI. */
  private static byte[] withExif(byte[] jpeg, byte[] payload) {
    return withSegment(jpeg, 0xE1, concat("Exif\0\0".getBytes(StandardCharsets.ISO_8859_1), payload));
  }

  /**
   * The JPEG with an ICC_PROFILE APP2 segment (chunk 1 of 1) holding {@code profile} right after
   * SOI; a profile shorter than its 128-byte header is one the decoder warns about and ignores.
   */
  public static byte[] withIccProfile(byte[] jpeg, byte[] profile) {
    return withSegment(jpeg, 0xE2, concat("ICC_PROFILE\0".getBytes(StandardCharsets.ISO_8859_1),
        concat(new byte[] {1, 1}, profile)));
  }

  private static byte[] withSegment(byte[] jpeg, int marker, byte[] payload) {
    byte[] segment = new byte[4 + payload.length];
    segment[0] = (byte) 0xFF;
    segment[1] = (byte) marker;
    segment[2] = (byte) ((payload.length + 2) >> 8);
    segment[3] = (byte) (payload.length + 2);
    System.arraycopy(payload, 0, segment, 4, payload.length);
    return concat(concat(Arrays.copyOf(jpeg, 2), segment), Arrays.copyOfRange(jpeg, 2, jpeg.length));
  }

  /**
   * A whole JPEG with one entropy-coded byte of its scan flipped: libjpeg warns "Corrupt JPEG
   * data: bad Huffman code" and fills the blocks it skipped with grey.
   */
  public static byte[] jpegWithBadHuffmanCode() {
    byte[] jpeg = jpeg(marker(320, 240), false);
    int sos = 0;
    for (int i = 2; i < jpeg.length - 1; i++) {
      if ((jpeg[i] & 0xFF) == 0xFF && (jpeg[i + 1] & 0xFF) == 0xDA) {
        sos = i;
        break;
      }
    }
    int at = sos + (jpeg.length - sos) / 3;
    jpeg[at] ^= 0x24;
    if ((jpeg[at] & 0xFF) == 0xFF) {
      throw new IllegalStateException("the flip made a marker");
    }
    return jpeg;
  }

  public static byte[] truncated(byte[] data, double keep) {
    return Arrays.copyOf(data, (int) (data.length * keep));
  }

  public static byte[] html() {
    return ("<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>"
        + "<body><h1>Not Found</h1></body></html>\n").getBytes(StandardCharsets.UTF_8);
  }

  public static byte[] svg() {
    return ("<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\">"
        + "<rect width=\"10\" height=\"10\"/></svg>").getBytes(StandardCharsets.UTF_8);
  }

  /** The first bytes of an AVIF file (ISO-BMFF ftyp box, brand avif). */
  public static byte[] avifHeader() {
    byte[] head = new byte[64];
    byte[] box = {0, 0, 0, 0x20, 'f', 't', 'y', 'p', 'a', 'v', 'i', 'f', 0, 0, 0, 0, 'm', 'i', 'f', '1'};
    System.arraycopy(box, 0, head, 0, box.length);
    return head;
  }

  /** Deterministic pseudo-random bytes that are no image. */
  public static byte[] noise(int length) {
    byte[] data = new byte[length];
    long x = 0x9E3779B97F4A7C15L;
    for (int i = 0; i < length; i++) {
      x ^= x << 13;
      x ^= x >>> 7;
      x ^= x << 17;
      data[i] = (byte) x;
    }
    data[0] = 'Z'; // never a known signature
    return data;
  }

  /**
   * A committed 40x30 lossy WebP whose frame header now declares {@code width x height}: the
   * decoder sizes its work from the header, whatever data follows.
   */
  public static byte[] lossyWebpDeclaring(int width, int height) {
    byte[] b = resource("lossy.webp");
    // "VP8 " chunk at 12, its payload at 20: frame tag (3), start code (3), then 14-bit sizes.
    b[26] = (byte) width;
    b[27] = (byte) (width >> 8);
    b[28] = (byte) height;
    b[29] = (byte) (height >> 8);
    return b;
  }

  /** The committed 40x30 lossless WebP, its VP8L header now declaring {@code width x height}. */
  public static byte[] losslessWebpDeclaring(int width, int height) {
    byte[] b = resource("lossless.webp");
    // "VP8L" payload at 20: signature 0x2f, then width-1 and height-1 in 14 bits each.
    int bits = (b[21] & 0xFF) | (b[22] & 0xFF) << 8 | (b[23] & 0xFF) << 16 | (b[24] & 0xFF) << 24;
    bits = (bits & 0xF0000000) | (width - 1) | (height - 1) << 14;
    for (int i = 0; i < 4; i++) {
      b[21 + i] = (byte) (bits >> (8 * i));
    }
    return b;
  }

  /**
   * The committed lossy WebP as an extended file declaring {@code width x height}, with a
   * transparency plane compressed the lossless way (ALPH method 1, as cwebp writes cut-outs).
   */
  public static byte[] lossyWebpWithLosslessAlphaDeclaring(int width, int height) {
    byte[] lossy = lossyWebpDeclaring(width, height);
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(12 + 18 + 10 + lossy.length - 12)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(b.capacity() - 8)
        .put("WEBP".getBytes(StandardCharsets.US_ASCII));
    b.put("VP8X".getBytes(StandardCharsets.US_ASCII)).putInt(10).put((byte) 0x10).put(new byte[3]);
    b.put(le24(width - 1)).put(le24(height - 1));
    // Alpha header: no pre-processing, no filter, compression 1 (lossless); then one data byte.
    b.put("ALPH".getBytes(StandardCharsets.US_ASCII)).putInt(2).put((byte) 0x01).put((byte) 0);
    b.put(lossy, 12, lossy.length - 12);
    return b.array();
  }

  private static byte[] le24(int v) {
    return new byte[] {(byte) v, (byte) (v >> 8), (byte) (v >> 16)};
  }

  public static byte[] resource(String name) {
    try (InputStream in = HostileImages.class.getResourceAsStream("/images/" + name)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource images/" + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static BufferedImage indexed(BufferedImage src) {
    byte[] r = {(byte) 255, 0, 0, 0};
    byte[] g = {0, (byte) 255, 0, 0};
    byte[] b = {0, 0, (byte) 255, 0};
    BufferedImage out = new BufferedImage(src.getWidth(), src.getHeight(), BufferedImage.TYPE_BYTE_INDEXED,
        new IndexColorModel(2, 4, r, g, b));
    Graphics2D gr = out.createGraphics();
    gr.drawImage(src, 0, 0, null);
    gr.dispose();
    return out;
  }

  private static byte[] write(BufferedImage img, String format, Integer progressiveMode) {
    ImageWriter writer = ImageIO.getImageWritersByFormatName(format).next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      writer.setOutput(out);
      ImageWriteParam param = writer.getDefaultWriteParam();
      if (progressiveMode != null) {
        param.setProgressiveMode(progressiveMode);
        param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        param.setCompressionQuality(0.95f);
      }
      writer.write(null, new IIOImage(img, null, null), param);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      writer.dispose();
    }
    return bytes.toByteArray();
  }

  /**
   * A valid 64x48 marker PNG carrying a deflate-compressed text chunk (zTXt, or iTXt with its
   * compression flag) that inflates to {@code mebibytes} MiB: about a thousandth of that on disk.
   */
  public static byte[] pngWithTextBomb(int mebibytes, boolean itxt) {
    byte[] png = png(marker(64, 48));
    try {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      body.write("Comment".getBytes(StandardCharsets.ISO_8859_1));
      body.write(0);
      body.write(itxt ? new byte[] {1, 0, 0, 0} : new byte[] {0}); // iTXt: compressed, method, no language, no keyword
      Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION);
      try (DeflaterOutputStream z = new DeflaterOutputStream(body, deflater)) {
        byte[] text = new byte[1 << 20];
        Arrays.fill(text, (byte) 'a');
        for (int i = 0; i < mebibytes; i++) {
          z.write(text);
        }
      } finally {
        deflater.end();
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      out.write(png, 0, 33); // signature and IHDR
      chunk(new DataOutputStream(out), itxt ? "iTXt" : "zTXt", body.toByteArray());
      out.write(png, 33, png.length - 33);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void chunk(DataOutputStream out, String type, byte[] data) throws IOException {
    byte[] typeBytes = type.getBytes(StandardCharsets.ISO_8859_1);
    out.writeInt(data.length);
    out.write(typeBytes);
    out.write(data);
    CRC32 crc = new CRC32();
    crc.update(typeBytes);
    crc.update(data);
    out.writeInt((int) crc.getValue());
  }

  private static byte[] deflate(byte[] data) {
    Deflater deflater = new Deflater();
    deflater.setInput(data);
    deflater.finish();
    byte[] out = new byte[data.length + 64];
    int n = deflater.deflate(out);
    deflater.end();
    return Arrays.copyOf(out, n);
  }

  public static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
