package io.visualsearch.evaluation;

import java.util.Arrays;

/**
 * Same-sized grayscale images with one integer label each: {@code pixels} holds {@code count}
 * images of {@code height x width} bytes back to back, row-major (0 = black, 255 = white).
 */
public record LabeledImages(byte[] pixels, int[] labels, int height, int width) {

  public LabeledImages {
    if (height < 1 || width < 1) {
      throw new IllegalArgumentException("image size " + height + "x" + width);
    }
    if ((long) labels.length * height * width != pixels.length) {
      throw new IllegalArgumentException(
          pixels.length + " bytes do not make " + labels.length + " images of " + height + "x" + width);
    }
  }

  public int count() {
    return labels.length;
  }

  public int imageBytes() {
    return height * width;
  }

  /** A copy of image {@code index}'s pixels. */
  public byte[] image(int index) {
    int size = imageBytes();
    return Arrays.copyOfRange(pixels, index * size, (index + 1) * size);
  }

  /** The images at {@code indices}, in that order. */
  public LabeledImages select(int[] indices) {
    int size = imageBytes();
    byte[] out = new byte[indices.length * size];
    int[] outLabels = new int[indices.length];
    for (int i = 0; i < indices.length; i++) {
      System.arraycopy(pixels, indices[i] * size, out, i * size, size);
      outLabels[i] = labels[indices[i]];
    }
    return new LabeledImages(out, outLabels, height, width);
  }
}
