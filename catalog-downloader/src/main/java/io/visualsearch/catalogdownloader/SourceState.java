package io.visualsearch.catalogdownloader;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Validators of the last feed download, for a conditional GET next time. */
public record SourceState(
    @JsonProperty("uri") String uri,
    @JsonProperty("etag") String etag,
    @JsonProperty("last_modified") String lastModified) {

  static final SourceState NONE = new SourceState("", null, null);
}
