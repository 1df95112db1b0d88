package io.visualsearch.modelclient;

import com.google.protobuf.UnsafeByteOperations;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferInt;
import java.awt.image.PixelInterleavedSampleModel;
import java.awt.image.SinglePixelPackedSampleModel;
import java.awt.image.WritableRaster;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Turns images into the uint8 [N,S,S,3] tensor the embedding signature takes, and reads the
 * float [N,D] answer. Indexing and querying both go through here, so a catalog image and the same
 * image sent by a shopper are resized identically. Public so that benchmarks feed an in-process
 * model exactly what the client sends.
 */
public final class ImageTensors {

  private static final int[] RGB_BAND_OFFSETS = {0, 1, 2};

  private ImageTensors() {}

  /** Height and width of one image as sent. */
  public record Shape(int height, int width) {}

  /**
   * The image's own size when it fits the signature's side and {@code smallAsIs} (the signature
   * upsamples it inside the graph, and the request carries its pixels, not an upscaled copy);
   * otherwise the square side every larger image is resized to.
   */
  public static Shape shapeFor(BufferedImage img, int size, boolean smallAsIs) {
    if (smallAsIs && img.getWidth() <= size && img.getHeight() <= size) {
      return new Shape(img.getHeight(), img.getWidth());
    }
    return new Shape(size, size);
  }

  /** Every image resized to the {@code size} square. */
  static TensorProto toTensor(List<BufferedImage> images, int size) {
    return toTensor(images, new Shape(size, size));
  }

  /** Every image drawn at {@code shape}; pixels as uint8 RGB rows. */
  public static TensorProto toTensor(List<BufferedImage> images, Shape shape) {
    int perImage = shape.height() * shape.width() * 3;
    byte[] pixels = new byte[images.size() * perImage];
    int o = 0;
    for (BufferedImage img : images) {
      boolean sentAsIs = img.getWidth() == shape.width() && img.getHeight() == shape.height();
      byte[] tight = sentAsIs ? rgbBytes(img) : null;
      if (tight != null) {
        System.arraycopy(tight, 0, pixels, o, perImage);
        o += perImage;
        continue;
      }
      int[] packed = sentAsIs ? packedRgb(img) : null;
      if (packed != null) {
        // A decoded query photo (SrgbConverter's TYPE_INT_RGB) at the size sent: its ints are
        // 0x00RRGGBB, unpacked here instead of drawn into a BGR raster and swapped.
        for (int p : packed) {
          pixels[o++] = (byte) (p >> 16);
          pixels[o++] = (byte) (p >> 8);
          pixels[o++] = (byte) p;
        }
        continue;
      }
      if (sentAsIs && img.getType() == BufferedImage.TYPE_3BYTE_BGR) {
        // Already 3 bytes a pixel at the size sent (ImageIO.read decodes a colour PNG so): the
        // raster hands out its pixels in band order, which is R, G, B.
        byte[] rgb = (byte[]) img.getRaster().getDataElements(0, 0, shape.width(), shape.height(), null);
        System.arraycopy(rgb, 0, pixels, o, perImage);
        o += perImage;
        continue;
      }
      // Drawn into a 3-byte BGR raster, the pixels are read as one array: per-pixel getRGB goes
      // through the colour model and cost more than the resize itself at 224 px.
      byte[] bgr = ((DataBufferByte) draw(img, shape).getRaster().getDataBuffer()).getData();
      for (int i = 0; i < perImage; i += 3) {
        pixels[o++] = bgr[i + 2];
        pixels[o++] = bgr[i + 1];
        pixels[o++] = bgr[i];
      }
    }
    return TensorProto.newBuilder()
        .setDtype(DataType.DT_UINT8)
        .setTensorShape(shape(images.size(), shape.height(), shape.width(), 3))
        .setTensorContent(UnsafeByteOperations.unsafeWrap(pixels))
        .build();
  }

  /**
   * The ints of a TYPE_INT_RGB image that is its raster's whole (not a sub-image's window on a
   * parent), one per pixel, rows back to back; else null.
   */
  private static int[] packedRgb(BufferedImage img) {
    WritableRaster r = img.getRaster();
    if (img.getType() != BufferedImage.TYPE_INT_RGB || r.getParent() != null || r.getSampleModelTranslateX() != 0
        || r.getSampleModelTranslateY() != 0 || !(r.getDataBuffer() instanceof DataBufferInt data)
        || data.getNumBanks() != 1 || data.getOffset() != 0
        || !(r.getSampleModel() instanceof SinglePixelPackedSampleModel m) || m.getScanlineStride() != img.getWidth()
        || data.getData().length != img.getWidth() * img.getHeight()) {
      return null;
    }
    return data.getData();
  }

  /**
   * The image's own array when it holds exactly the tensor's bytes, R, G, B, rows back to back
   * (a stored normalised image as {@code NormalisedImage.decode} returns it); else null.
   */
  private static byte[] rgbBytes(BufferedImage img) {
    WritableRaster r = img.getRaster();
    if (r.getParent() != null || r.getSampleModelTranslateX() != 0 || r.getSampleModelTranslateY() != 0
        || !(r.getDataBuffer() instanceof DataBufferByte data) || data.getNumBanks() != 1 || data.getOffset() != 0
        || !(r.getSampleModel() instanceof PixelInterleavedSampleModel m) || m.getNumBands() != 3
        || m.getPixelStride() != 3 || m.getScanlineStride() != 3 * img.getWidth()
        || !Arrays.equals(m.getBandOffsets(), RGB_BAND_OFFSETS)
        || img.getColorModel().hasAlpha() || !img.getColorModel().getColorSpace().isCS_sRGB()) {
      return null;
    }
    return data.getData();
  }

  private static BufferedImage draw(BufferedImage img, Shape shape) {
    BufferedImage out = new BufferedImage(shape.width(), shape.height(), BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = out.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
      g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
      g.drawImage(img, 0, 0, shape.width(), shape.height(), null);
    } finally {
      g.dispose();
    }
    return out;
  }

  /**
   * The {@code [expectedRows, D]} float answer as rows. A server that does not follow the API (a
   * short {@code tensor_content}, a D below 1) is a bad answer like a wrong dtype, refused
   * before anything is allocated or read, not a BufferUnderflowException out of {@code embed}.
   */
  static float[][] fromTensor(TensorProto t, int expectedRows) throws ModelRejectedException {
    if (t.getDtype() != DataType.DT_FLOAT) {
      throw new ModelRejectedException("embedding output has dtype " + t.getDtype() + ", expected DT_FLOAT", null);
    }
    TensorShapeProto shape = t.getTensorShape();
    if (shape.getDimCount() != 2 || shape.getDim(0).getSize() != expectedRows) {
      throw new ModelRejectedException("embedding output has shape " + shape.getDimList()
          + ", expected [" + expectedRows + ", D]", null);
    }
    long dim = shape.getDim(1).getSize();
    if (dim < 1 || dim > Integer.MAX_VALUE) {
      throw new ModelRejectedException("embedding output has shape " + shape.getDimList()
          + ": D must be between 1 and " + Integer.MAX_VALUE, null);
    }
    int d = (int) dim;
    long floats = (long) expectedRows * d; // both below 2^31: cannot overflow
    if (!t.getTensorContent().isEmpty()) {
      if (t.getTensorContent().size() != floats * Float.BYTES) {
        throw new ModelRejectedException("embedding output has " + t.getTensorContent().size()
            + " bytes of tensor_content, expected " + floats * Float.BYTES + " for shape [" + expectedRows + ", " + d
            + "]", null);
      }
      float[][] out = new float[expectedRows][d];
      ByteBuffer buf = t.getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      for (float[] row : out) {
        buf.asFloatBuffer().get(row);
        buf.position(buf.position() + d * Float.BYTES);
      }
      return out;
    }
    if (t.getFloatValCount() != floats) {
      throw new ModelRejectedException("embedding output holds " + t.getFloatValCount() + " floats, expected "
          + floats, null);
    }
    float[][] out = new float[expectedRows][d];
    for (int i = 0; i < expectedRows; i++) {
      for (int j = 0; j < d; j++) {
        out[i][j] = t.getFloatVal(i * d + j);
      }
    }
    return out;
  }

  private static TensorShapeProto shape(long... dims) {
    TensorShapeProto.Builder b = TensorShapeProto.newBuilder();
    for (long d : dims) {
      b.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    return b.build();
  }
}
