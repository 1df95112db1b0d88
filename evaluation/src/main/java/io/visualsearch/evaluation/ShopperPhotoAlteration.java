package io.visualsearch.evaluation;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.SplittableRandom;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.stream.MemoryCacheImageInputStream;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Alters a catalog image the way a shopper's photo of the product differs from the catalog shot:
 * framing (zoom-crop, small shift and rotation), light (gain, offset, gamma), sensor noise and JPEG
 * compression. Every parameter is drawn from a generator seeded by {@code (seed, item)}, so the
 * same item and seed always give the same photo, independently of which other items are altered.
 *
 * <p>The ranges are deliberately mild — what a phone photo of a product on a plain background looks
 * like after cropping to the product — because the question is whether the product is found, not
 * whether a pathological image can be recognised.
 */
public final class ShopperPhotoAlteration {

  /** Bumped whenever the recipe changes, so cached features of altered images are not reused. */
  public static final String RECIPE = "shopper-v1";

  private static final double MAX_ZOOM = 0.15;
  private static final double MAX_SHIFT_PX = 1.5;
  private static final double MAX_ROTATION_DEG = 8;
  private static final double MAX_GAIN_CHANGE = 0.25;
  private static final double MAX_OFFSET = 20;
  private static final double MAX_GAMMA_CHANGE = 0.2;
  private static final double MIN_NOISE_SIGMA = 2;
  private static final double MAX_NOISE_SIGMA = 6;
  private static final int MIN_JPEG_QUALITY = 60;
  private static final int MAX_JPEG_QUALITY = 90;

  private final long seed;

  public ShopperPhotoAlteration(long seed) {
    this.seed = seed;
  }

  /** A string that identifies the photos this instance produces (recipe and seed). */
  public String fingerprint() {
    return RECIPE + "-s" + seed;
  }

  /** The altered version of {@code images}' image {@code index}, whose identity is {@code item}. */
  public byte[] alter(LabeledImages images, int index, long item) {
    SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + item);
    int h = images.height();
    int w = images.width();
    double[] framed = reframe(images.image(index), h, w, random);
    relight(framed, random);
    addNoise(framed, random);
    return jpegRoundTrip(toBytes(framed), h, w, MIN_JPEG_QUALITY + random.nextInt(MAX_JPEG_QUALITY - MIN_JPEG_QUALITY + 1));
  }

  /** Every image of {@code images} altered, item identity = position in {@code items}. */
  public LabeledImages alterAll(LabeledImages images, int[] items) {
    int size = images.imageBytes();
    byte[] out = new byte[images.pixels().length];
    for (int i = 0; i < images.count(); i++) {
      System.arraycopy(alter(images, i, items[i]), 0, out, i * size, size);
    }
    return new LabeledImages(out, images.labels().clone(), images.height(), images.width());
  }

  /** Zoom in, shift and rotate about the centre; bilinear sampling, black outside the frame. */
  private static double[] reframe(byte[] source, int h, int w, SplittableRandom random) {
    double zoom = 1 + random.nextDouble() * MAX_ZOOM;
    double angle = Math.toRadians((random.nextDouble() * 2 - 1) * MAX_ROTATION_DEG);
    double dx = (random.nextDouble() * 2 - 1) * MAX_SHIFT_PX;
    double dy = (random.nextDouble() * 2 - 1) * MAX_SHIFT_PX;
    double cos = Math.cos(angle) / zoom;
    double sin = Math.sin(angle) / zoom;
    double cx = (w - 1) / 2.0;
    double cy = (h - 1) / 2.0;
    double[] out = new double[h * w];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        // Inverse mapping: where in the catalog image does this photo pixel come from.
        double u = x - cx - dx;
        double v = y - cy - dy;
        double sx = cos * u + sin * v + cx;
        double sy = -sin * u + cos * v + cy;
        out[y * w + x] = sample(source, h, w, sx, sy);
      }
    }
    return out;
  }

  private static double sample(byte[] image, int h, int w, double x, double y) {
    int x0 = (int) Math.floor(x);
    int y0 = (int) Math.floor(y);
    double fx = x - x0;
    double fy = y - y0;
    return (1 - fy) * ((1 - fx) * pixel(image, h, w, x0, y0) + fx * pixel(image, h, w, x0 + 1, y0))
        + fy * ((1 - fx) * pixel(image, h, w, x0, y0 + 1) + fx * pixel(image, h, w, x0 + 1, y0 + 1));
  }

  private static double pixel(byte[] image, int h, int w, int x, int y) {
    return x < 0 || y < 0 || x >= w || y >= h ? 0 : image[y * w + x] & 0xff;
  }

  /** Other light: exposure (gain), ambient light (offset) and a different tone curve (gamma). */
  private static void relight(double[] image, SplittableRandom random) {
    double gain = 1 + (random.nextDouble() * 2 - 1) * MAX_GAIN_CHANGE;
    double offset = (random.nextDouble() * 2 - 1) * MAX_OFFSET;
    double gamma = 1 + (random.nextDouble() * 2 - 1) * MAX_GAMMA_CHANGE;
    for (int i = 0; i < image.length; i++) {
      double toned = 255 * Math.pow(Math.max(0, image[i]) / 255, gamma);
      image[i] = toned * gain + offset;
    }
  }

  private static void addNoise(double[] image, SplittableRandom random) {
    double sigma = MIN_NOISE_SIGMA + random.nextDouble() * (MAX_NOISE_SIGMA - MIN_NOISE_SIGMA);
    for (int i = 0; i < image.length; i++) {
      image[i] += sigma * gaussian(random);
    }
  }

  private static double gaussian(SplittableRandom random) {
    // Box-Muller from the seeded generator (SplittableRandom has no nextGaussian on Java 17).
    double u1 = 1 - random.nextDouble();
    double u2 = random.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  private static byte[] toBytes(double[] image) {
    byte[] out = new byte[image.length];
    for (int i = 0; i < image.length; i++) {
      out[i] = (byte) Math.max(0, Math.min(255, Math.round(image[i])));
    }
    return out;
  }

  private static byte[] jpegRoundTrip(byte[] gray, int h, int w, int quality) {
    BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
    image.getRaster().setDataElements(0, 0, w, h, gray);
    ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    ByteArrayOutputStream encoded = new ByteArrayOutputStream();
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(encoded)) {
      writer.setOutput(out);
      ImageWriteParam param = writer.getDefaultWriteParam();
      param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      param.setCompressionQuality(quality / 100f);
      writer.write(null, new IIOImage(image, null, null), param);
    } catch (IOException e) {
      throw new UncheckedIOException("in-memory JPEG encoding failed", e);
    } finally {
      writer.dispose();
    }
    try {
      // An in-memory stream (ImageIO.read closes it): from an InputStream ImageIO would copy
      // every photo into a temp file.
      BufferedImage decoded = ImageIO.read(new MemoryCacheImageInputStream(
          new ByteArrayInputStream(encoded.toByteArray())));
      byte[] out = new byte[h * w];
      decoded.getRaster().getDataElements(0, 0, w, h, out);
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("in-memory JPEG decoding failed", e);
    }
  }
}
