package io.visualsearch.searchapi.image;

/** A rectangle of the uploaded image, in its pixels, that the shopper wants matched. */
public record CropBox(int x, int y, int width, int height) {

  /** Parses {@code x,y,w,h}; throws IllegalArgumentException with a message for the client. */
  public static CropBox parse(String text) {
    String[] parts = text.split(",", -1);
    if (parts.length != 4) {
      throw new IllegalArgumentException("crop must be 'x,y,w,h' in pixels");
    }
    int[] v = new int[4];
    for (int i = 0; i < 4; i++) {
      try {
        v[i] = Integer.parseInt(parts[i].strip());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("crop must be 'x,y,w,h' with whole numbers");
      }
    }
    return new CropBox(v[0], v[1], v[2], v[3]);
  }

  /** True when the box is non-empty and lies entirely inside a {@code width × height} image. */
  public boolean fitsIn(int imageWidth, int imageHeight) {
    return x >= 0 && y >= 0 && width > 0 && height > 0
        && (long) x + width <= imageWidth && (long) y + height <= imageHeight;
  }

  @Override
  public String toString() {
    return x + "," + y + "," + width + "," + height;
  }
}
