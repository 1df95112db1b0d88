package io.visualsearch.catalogdownloader;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.visualsearch.catalogfeed.ProductHasher;

/**
 * Validators of the last feed download, for a conditional GET next time.
 *
 * @param encoding how that download's rows were hashed ({@link ProductHasher#ENCODING_VERSION}): a
 *     release that changes it reads every feed again, the ones whose server answers "not modified"
 *     included, or their products kept the old normalisation for as long as the file did not change
 *     (0 in files written before it was kept)
 */
public record SourceState(
    @JsonProperty("uri") String uri,
    @JsonProperty("etag") String etag,
    @JsonProperty("last_modified") String lastModified,
    @JsonProperty("encoding") int encoding) {

  static final SourceState NONE = new SourceState("", null, null);

  /** A download's validators, its rows hashed as this release hashes them. */
  SourceState(String uri, String etag, String lastModified) {
    this(uri, etag, lastModified, ProductHasher.ENCODING_VERSION);
  }

  /** Whether a conditional download may rest on these: same source, rows hashed as now. */
  boolean validFor(String source) {
    return uri.equals(source) && encoding == ProductHasher.ENCODING_VERSION;
  }
}
