package io.visualsearch.catalogdownloader;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * What one sync of one tenant's feed did, as a retailer or an operator reads it.
 *
 * @param reconciled upserts and deletes sent only because an earlier sync ended before saving its
 *     snapshot, or the snapshot was lost and the topic had those ids (counted in {@code upserts} and
 *     {@code deletes} too)
 * @param rowErrors the first rejected rows; all {@code rejectedRows} went to the dead-letter topic
 */
public record SyncReport(
    @JsonProperty("tenant") String tenant,
    @JsonProperty("source") String source,
    @JsonProperty("status") Status status,
    @JsonProperty("format") String format,
    @JsonProperty("rows") long rows,
    @JsonProperty("upserts") long upserts,
    @JsonProperty("deletes") long deletes,
    @JsonProperty("unchanged") long unchanged,
    @JsonProperty("reconciled") long reconciled,
    @JsonProperty("rejected_rows") long rejectedRows,
    @JsonProperty("row_errors") List<String> rowErrors,
    @JsonProperty("message") String message,
    @JsonProperty("finished_at_ms") long finishedAtMs) {

  /** BUSY: another sync of the tenant was running (on this instance, another or the one-shot job); nothing done. */
  public enum Status { APPLIED, NOT_MODIFIED, REFUSED, FAILED, BUSY }

  static SyncReport notModified(String tenant, String source) {
    return new SyncReport(tenant, source, Status.NOT_MODIFIED, "", 0, 0, 0, 0, 0, 0, List.of(),
        "the source reports no change since the last download", System.currentTimeMillis());
  }

  static SyncReport failed(String tenant, String source, Status status, String message) {
    return new SyncReport(tenant, source, status, "", 0, 0, 0, 0, 0, 0, List.of(), message, System.currentTimeMillis());
  }

  @Override
  public String toString() {
    return tenant + " " + status + ": " + upserts + " upserts, " + deletes + " deletes, " + unchanged
        + " unchanged, " + rejectedRows + " rejected rows"
        + (reconciled == 0 ? "" : ", " + reconciled + " changes sent to reconcile the topic")
        + (message.isEmpty() ? "" : " (" + message + ")");
  }
}
