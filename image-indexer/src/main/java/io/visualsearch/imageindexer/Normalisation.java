package io.visualsearch.imageindexer;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.visualsearch.imagevalidation.ValidationPolicy;

/**
 * How a stored copy was normalised: the longest side it was fitted to ({@code IMAGE_MAX_SIDE}) and
 * the version of the normaliser's output. A stored copy made another way is fetched and
 * normalised again on the product's next record instead of being reused, so the catalog and the
 * shoppers' photos (search-api scales them with the current setting) are sampled alike.
 *
 * @param maxSide longest side of the normalised PNG
 * @param version {@link #VERSION} of the release that made it
 */
record Normalisation(@JsonProperty("max_side") int maxSide, @JsonProperty("version") int version) {

  /**
   * The normaliser's output version. Bump it in a release whose normalised PNGs differ from the
   * previous one's for the same source (image-validation's resampling, colour conversion,
   * orientation, compositing or PNG encoding): every product is then re-normalised on its next
   * record. image-validation keeps no version of its own.
   */
  static final int VERSION = 1;

  /**
   * What a state written before the fingerprint existed was made with: the default side and the
   * first version. Fixed, not the current defaults: such copies were made by that release.
   * (A deployment that already ran with another {@code IMAGE_MAX_SIDE} re-normalises its
   * products once, each on its next record.)
   */
  static final Normalisation BEFORE_FINGERPRINTS = new Normalisation(512, 1);

  /** What the validator of {@code policy} produces now. */
  static Normalisation of(ValidationPolicy policy) {
    return new Normalisation(policy.maxOutputSide(), VERSION);
  }
}
