package io.visualsearch.modelclient;

import com.google.protobuf.UnsafeByteOperations;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
      if (img.getType() == BufferedImage.TYPE_3BYTE_BGR && img.getWidth() == shape.width()
          && img.getHeight() == shape.height()) {
        // Already 3 bytes a pixel at the size sent (a normalised colour PNG decodes so): the
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

  static float[][] fromTensor(TensorProto t, int expectedRows) throws ModelRejectedException {
    if (t.getDtype() != DataType.DT_FLOAT) {
      throw new ModelRejectedException("embedding output has dtype " + t.getDtype() + ", expected DT_FLOAT", null);
    }
    TensorShapeProto shape = t.getTensorShape();
    if (shape.getDimCount() != 2 || shape.getDim(0).getSize() != expectedRows) {
      throw new ModelRejectedException("embedding output has shape " + shape.getDimList()
          + ", expected [" + expectedRows + ", D]", null);
    }
    int d = (int) shape.getDim(1).getSize();
    float[][] out = new float[expectedRows][d];
    if (!t.getTensorContent().isEmpty()) {
      ByteBuffer buf = t.getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      for (float[] row : out) {
        buf.asFloatBuffer().get(row);
        buf.position(buf.position() + d * 4);
      }
    } else {
      if (t.getFloatValCount() != expectedRows * d) {
        throw new ModelRejectedException("embedding output holds " + t.getFloatValCount() + " floats, expected "
            + expectedRows * d, null);
      }
      for (int i = 0; i < expectedRows; i++) {
        for (int j = 0; j < d; j++) {
          out[i][j] = t.getFloatVal(i * d + j);
        }
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
