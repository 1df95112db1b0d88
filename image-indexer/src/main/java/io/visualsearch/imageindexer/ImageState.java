package io.visualsearch.imageindexer;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.visualsearch.imagefetch.CacheValidators;
import io.visualsearch.imagevalidation.NormalisedImage;

/**
 * What the indexer remembers about one product's image: the link it came from, the server's
 * validators for a conditional GET, and the content address of the normalised copy.
 */
record ImageState(
    @JsonProperty("image_link") String imageLink,
    @JsonProperty("etag") String etag,
    @JsonProperty("last_modified") String lastModified,
    @JsonProperty("sha256") String sha256,
    @JsonProperty("width") int width,
    @JsonProperty("height") int height) {

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
