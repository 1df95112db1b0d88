package io.visualsearch.catalogdownloader;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.visualsearch.catalogfeed.CatalogSnapshot;
import io.visualsearch.catalogfeed.PendingIds;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.StoredObject;
import java.io.IOException;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the downloader remembers per tenant, in the object store so any instance can take over:
 * {@code catalog/<tenant>/snapshot.bin} (product id → content hash of the last applied feed),
 * {@code catalog/<tenant>/pending.bin} (ids a sync may have published since, while it has not saved
 * its snapshot; see {@link PendingIds}), {@code catalog/<tenant>/source.json} (validators for a
 * conditional download) and {@code catalog/<tenant>/last-sync.json} (the last sync's report, refused
 * feeds included).
 */
final class CatalogStateStore {

  private static final Logger log = LoggerFactory.getLogger(CatalogStateStore.class);
  private static final ObjectMapper LENIENT = new ObjectMapper()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  private final ObjectStore store;
  private final ObjectMapper json = new ObjectMapper();

  CatalogStateStore(ObjectStore store) {
    this.store = store;
  }

  /**
   * The snapshot of the last applied feed; empty when there is none or it cannot be read (said in
   * the log): failing instead stopped every sync of the tenant for good, and {@link #hasSynced}
   * tells a lost one from a tenant's first sync.
   */
  Optional<CatalogSnapshot> snapshot(String tenant) {
    Optional<StoredObject> o = store.get(prefix(tenant) + "snapshot.bin");
    if (o.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(CatalogSnapshot.fromBytes(o.get().bytes()));
    } catch (IOException e) {
      log.warn("catalog/{}/snapshot.bin is unreadable ({})", tenant, e.getMessage());
      return Optional.empty();
    }
  }

  /**
   * Whether a sync of the tenant has ended before, applied, unchanged or refused: each leaves its
   * report, and an applied one its validators. A tenant without either has no products in the topic.
   */
  boolean hasSynced(String tenant) {
    return store.exists(prefix(tenant) + "last-sync.json") || store.exists(prefix(tenant) + "source.json");
  }

  void saveSnapshot(String tenant, CatalogSnapshot snapshot) {
    store.put(prefix(tenant) + "snapshot.bin", snapshot.toBytes(), "application/octet-stream");
  }

  PendingIds pending(String tenant) throws IOException {
    Optional<StoredObject> o = store.get(prefix(tenant) + "pending.bin");
    return o.isEmpty() ? PendingIds.empty() : PendingIds.fromBytes(o.get().bytes());
  }

  void savePending(String tenant, PendingIds pending) {
    store.put(prefix(tenant) + "pending.bin", pending.toBytes(), "application/octet-stream");
  }

  /**
   * Removes the pending ids once the sync that wrote or read {@code known} saved its snapshot, but
   * only while they are still those: a sync that stalled past its lease finishing late would
   * otherwise delete the ids the sync that took the tenant over has written since, and a crash of
   * that one before its snapshot would leave what it sent untracked. Returns whether they went.
   */
  boolean clearPending(String tenant, PendingIds known) throws IOException {
    String key = prefix(tenant) + "pending.bin";
    Optional<StoredObject> there = store.get(key);
    if (there.isEmpty()) {
      return true;
    }
    if (!PendingIds.fromBytes(there.get().bytes()).equals(known)) {
      log.info("tenant {}: pending ids left in place: another sync has written its own since", tenant);
      return false;
    }
    store.delete(key);
    return true;
  }

  SourceState source(String tenant) throws IOException {
    Optional<StoredObject> o = store.get(prefix(tenant) + "source.json");
    if (o.isEmpty()) {
      return SourceState.NONE;
    }
    if (namesItsUrl(o.get().bytes())) {
      // Written by an earlier release, with the feed's URL (its token too) in the shared bucket: it
      // would stay there as long as the feed is refused or the tenant gone.
      store.delete(prefix(tenant) + "source.json");
      return SourceState.NONE;
    }
    return parseSource(tenant, o.get().bytes());
  }

  /** Whether stored validators hold the feed's URL itself, as earlier releases wrote them. */
  static boolean namesItsUrl(byte[] bytes) {
    try {
      com.fasterxml.jackson.databind.JsonNode node = LENIENT.readTree(bytes);
      return node != null && node.isObject() && node.has("uri");
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * The validators as stored, fields added by a newer version ignored (a rollback, or two versions
   * side by side in a rolling update); a file that cannot be read at all counts as none, since the
   * validators only save a download: failing instead stopped every sync of the tenant for good.
   */
  static SourceState parseSource(String tenant, byte[] bytes) {
    try {
      SourceState state = LENIENT.readValue(bytes, SourceState.class);
      // "null", "{}": parsed, yet nothing to compare with; read on, every sync failed on it.
      if (state == null || state.sourceSha256() == null) {
        log.warn("catalog/{}/source.json names no source (or the URL itself, as files of earlier releases did):"
            + " the next download is unconditional", tenant);
        return SourceState.NONE;
      }
      return state;
    } catch (IOException e) {
      log.warn("catalog/{}/source.json is unreadable ({}): the next download is unconditional", tenant, e.getMessage());
      return SourceState.NONE;
    }
  }

  void saveSource(String tenant, SourceState state) throws IOException {
    store.put(prefix(tenant) + "source.json", json.writeValueAsBytes(state), "application/json");
  }

  void saveReport(String tenant, SyncReport report) throws IOException {
    store.put(prefix(tenant) + "last-sync.json", json.writerWithDefaultPrettyPrinter().writeValueAsBytes(report),
        "application/json");
  }

  private static String prefix(String tenant) {
    return "catalog/" + tenant + "/";
  }
}
