package io.visualsearch.catalogdownloader;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * What {@code GET /sync?tenant=T} answers: where the tenant's on-demand sync stands.
 *
 * @param lastSync the last sync's report on this instance; null before its first (the state store
 *     keeps the latest of any instance in {@code catalog/<tenant>/last-sync.json})
 */
record SyncStatus(
    @JsonProperty("tenant") String tenant,
    @JsonProperty("queued") boolean queued,
    @JsonProperty("running") boolean running,
    @JsonProperty("last_sync") SyncReport lastSync) {}
