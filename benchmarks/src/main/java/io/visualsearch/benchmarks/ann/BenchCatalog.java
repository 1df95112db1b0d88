package io.visualsearch.benchmarks.ann;

/**
 * The fixed order of images the ANN benchmark embeds: first {@link #QUERIES} Fashion-MNIST test
 * images (the shopper queries, never indexed), then the gallery: the 60,000 training images, then
 * the same images under {@link CatalogAugmentation} variant 1, 2, ... The order never changes, so
 * a cache of the first n embeddings stays valid as it grows.
 */
final class BenchCatalog {

  static final int QUERIES = 1000;

  private final FashionMnistImages test;
  private final FashionMnistImages train;

  BenchCatalog(FashionMnistImages test, FashionMnistImages train) {
    this.test = test;
    this.train = train;
  }

  /** Positions available: the queries plus every variant of every training image. */
  long size() {
    return QUERIES + (long) train.count() * CatalogAugmentation.VARIANTS;
  }

  /** The 28x28 grayscale image at {@code position}. */
  byte[] image(long position) {
    if (position < QUERIES) {
      return test.image((int) position);
    }
    long g = position - QUERIES;
    int variant = (int) (g / train.count());
    return CatalogAugmentation.apply(variant, train.image((int) (g % train.count())));
  }

  /** Which originals the first {@code galleryVectors} gallery vectors cover, for the report. */
  String describeGallery(long galleryVectors) {
    long originals = Math.min(galleryVectors, train.count());
    long augmented = galleryVectors - originals;
    return originals + " training images" + (augmented > 0 ? " + " + augmented + " augmented copies" : "");
  }
}
