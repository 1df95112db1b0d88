package io.visualsearch.imageindexer;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.visualsearch.imagefetch.CacheValidators;
import io.visualsearch.imagevalidation.NormalisedImage;

/**
 * What the indexer remembers about one product's image: the link it came from, the server's
 * validators for a conditional GET, the content address of the normalised copy and how that copy
 * was normalised. State written before {@code normalisation} existed reads as
 * {@link Normalisation#BEFORE_FINGERPRINTS}.
 */
record ImageState(
    @JsonProperty("image_link") String imageLink,
    @JsonProperty("etag") String etag,
    @JsonProperty("last_modified") String lastModified,
    @JsonProperty("sha256") String sha256,
    @JsonProperty("width") int width,
    @JsonProperty("height") int height,
    @JsonProperty("normalisation") Normalisation normalisation) {

  ImageState {
    if (normalisation == null) {
      normalisation = Normalisation.BEFORE_FINGERPRINTS;
    }
  }

  @JsonIgnore
  CacheValidators validators() {
    return new CacheValidators(etag, lastModified);
  }

  @JsonIgnore
  boolean hasValidators() {
    return etag != null || lastModified != null;
  }

  @JsonIgnore
  String objectKey() {
    return NormalisedImage.objectKey(sha256);
  }
}
