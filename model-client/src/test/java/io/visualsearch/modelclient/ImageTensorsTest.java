package io.visualsearch.modelclient;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

class ImageTensorsTest {

  @Test
  void pixelsGoOutAsRgbRowsInImageOrder() {
    BufferedImage a = new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB);
    a.setRGB(0, 0, 0xFF0000);
    a.setRGB(1, 0, 0x00FF00);
    a.setRGB(0, 1, 0x0000FF);
    a.setRGB(1, 1, 0x102030);
    BufferedImage b = new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB);
    b.setRGB(1, 1, 0xFFFFFF);

    TensorProto t = ImageTensors.toTensor(List.of(a, b), 2);

    assertEquals(DataType.DT_UINT8, t.getDtype());
    assertEquals(List.of(2L, 2L, 2L, 3L), t.getTensorShape().getDimList().stream().map(d -> d.getSize()).toList());
    assertArrayEquals(new byte[] {
        (byte) 0xFF, 0, 0, 0, (byte) 0xFF, 0, 0, 0, (byte) 0xFF, 0x10, 0x20, 0x30,
        0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF},
        t.getTensorContent().toByteArray());
  }

  /** A decoded query photo (TYPE_INT_RGB, unpacked from its ints) and a BGR image go out with the same bytes. */
  @Test
  void aBgrImageAtTheSentSizeGoesOutWithExactlyItsPixelsLikeAnyOtherLayout() {
    BufferedImage bgr = new BufferedImage(7, 5, BufferedImage.TYPE_3BYTE_BGR);
    BufferedImage rgb = new BufferedImage(7, 5, BufferedImage.TYPE_INT_RGB);
    paintRandomly(3, bgr, rgb);
    ImageTensors.Shape asIs = new ImageTensors.Shape(5, 7);
    byte[] fromBgr = ImageTensors.toTensor(List.of(bgr), asIs).getTensorContent().toByteArray();
    assertArrayEquals(ImageTensors.toTensor(List.of(rgb), asIs).getTensorContent().toByteArray(), fromBgr);
    int c = rgb.getRGB(6, 4);
    int last = fromBgr.length - 3;
    assertArrayEquals(new byte[] {(byte) (c >> 16), (byte) (c >> 8), (byte) c},
        new byte[] {fromBgr[last], fromBgr[last + 1], fromBgr[last + 2]});
    // A sub-image shares its parent's raster (a decoded photo's ints too): only its own pixels go out.
    for (int type : new int[] {BufferedImage.TYPE_3BYTE_BGR, BufferedImage.TYPE_INT_RGB}) {
      BufferedImage parent = new BufferedImage(9, 9, type);
      parent.getGraphics().drawImage(bgr, 2, 3, null);
      assertArrayEquals(fromBgr, ImageTensors.toTensor(List.of(parent.getSubimage(2, 3, 7, 5)), asIs)
          .getTensorContent().toByteArray(), "a sub-image of type " + type);
    }
  }

  @Test
  void anRgbByteImageGoesOutAsItsOwnArrayAndItsSubImagesThroughTheirPixels() {
    BufferedImage rgbBytes = rgbInterleaved(7, 5);
    BufferedImage reference = new BufferedImage(7, 5, BufferedImage.TYPE_INT_RGB);
    paintRandomly(5, rgbBytes, reference);
    ImageTensors.Shape asIs = new ImageTensors.Shape(5, 7);
    byte[] expected = ImageTensors.toTensor(List.of(reference), asIs).getTensorContent().toByteArray();
    assertArrayEquals(expected, ImageTensors.toTensor(List.of(rgbBytes), asIs).getTensorContent().toByteArray());
    BufferedImage parent = rgbInterleaved(10, 9);
    parent.getGraphics().drawImage(reference, 3, 2, null);
    assertArrayEquals(expected, ImageTensors.toTensor(List.of(parent.getSubimage(3, 2, 7, 5)), asIs)
        .getTensorContent().toByteArray(), "a sub-image's array holds its parent's other pixels too");
  }

  /** The same pseudo-random colours into every image, pixel by pixel. */
  static void paintRandomly(long seed, BufferedImage... images) {
    java.util.Random r = new java.util.Random(seed);
    for (int y = 0; y < images[0].getHeight(); y++) {
      for (int x = 0; x < images[0].getWidth(); x++) {
        int c = r.nextInt(0x1000000);
        for (BufferedImage image : images) {
          image.setRGB(x, y, c);
        }
      }
    }
  }

  /** R, G, B bytes in that order, as a stored normalised PNG decodes. */
  static BufferedImage rgbInterleaved(int w, int h) {
    ColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_sRGB), false, false,
        Transparency.OPAQUE, DataBuffer.TYPE_BYTE);
    WritableRaster raster = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, w, h, 3 * w, 3, new int[] {0, 1, 2},
        null);
    return new BufferedImage(cm, raster, false, null);
  }

  @Test
  void everyImageIsResizedToTheSignatureSide() {
    BufferedImage wide = new BufferedImage(40, 10, BufferedImage.TYPE_BYTE_GRAY);
    TensorProto t = ImageTensors.toTensor(List.of(wide), 224);
    assertEquals(List.of(1L, 224L, 224L, 3L), t.getTensorShape().getDimList().stream().map(d -> d.getSize()).toList());
    assertEquals(224 * 224 * 3, t.getTensorContent().size());
  }

  @Test
  void anEmbeddingAnswerIsReadRowByRow() throws Exception {
    float[][] rows = ImageTensors.fromTensor(embedding(littleEndian(1, 2, 3, 4, 5, 6), 2, 3), 2);
    assertArrayEquals(new float[] {1, 2, 3}, rows[0]);
    assertArrayEquals(new float[] {4, 5, 6}, rows[1]);
  }

  @Test
  void aMalformedEmbeddingAnswerIsRejectedNotABufferError() {
    // A non-conforming server: too few or too many bytes for [2, 3], a D that is no size.
    for (TensorProto bad : List.of(
        embedding(littleEndian(1, 2, 3, 4, 5), 2, 3),
        embedding(littleEndian(1, 2, 3, 4, 5, 6, 7), 2, 3),
        embedding(littleEndian(1, 2, 3, 4, 5, 6), 2, -1),
        embedding(littleEndian(1, 2, 3, 4, 5, 6), 2, 0),
        embedding(littleEndian(1, 2, 3, 4, 5, 6), 2, (1L << 32) + 3))) {
      ModelRejectedException e = assertThrows(ModelRejectedException.class, () -> ImageTensors.fromTensor(bad, 2),
          bad.getTensorShape().toString());
      assertTrue(e.getMessage().startsWith("embedding output has"), e.getMessage());
    }
  }

  private static TensorProto embedding(ByteString content, long rows, long d) {
    return TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
        .setTensorShape(TensorShapeProto.newBuilder()
            .addDim(TensorShapeProto.Dim.newBuilder().setSize(rows))
            .addDim(TensorShapeProto.Dim.newBuilder().setSize(d)))
        .setTensorContent(content).build();
  }

  private static ByteString littleEndian(float... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putFloat(v);
    }
    return ByteString.copyFrom(b.array());
  }
}
