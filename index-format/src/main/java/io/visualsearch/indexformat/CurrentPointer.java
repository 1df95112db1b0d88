package io.visualsearch.indexformat;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Contents of {@code indexes/<tenant>/CURRENT}: the version search serves. */
public record CurrentPointer(
    @JsonProperty("version") String version,
    @JsonProperty("manifest") String manifestKey,
    @JsonProperty("model_version") long modelVersion,
    @JsonProperty("updated_at_ms") long updatedAtMs) {}
