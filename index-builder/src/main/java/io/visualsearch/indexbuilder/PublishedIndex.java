package io.visualsearch.indexbuilder;

import io.visualsearch.indexformat.CorruptIndexException;
import io.visualsearch.indexformat.CurrentPointer;
import io.visualsearch.indexformat.IndexJson;
import io.visualsearch.indexformat.IndexLayout;
import io.visualsearch.indexformat.IndexManifest;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.StoredObject;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a tenant serves right now: its CURRENT pointer, the ETag to flip it against, and the
 * manifest it names. A pointer or manifest that cannot be read, lacks what builds and readers rely
 * on ({@link IndexJson} refuses it) or describes another index counts as "no model known" (the next
 * build replaces it), never as a reason to stop building.
 *
 * @param etag null when the tenant has no CURRENT yet
 */
record PublishedIndex(String etag, CurrentPointer pointer, IndexManifest manifest) {

  private static final Logger log = LoggerFactory.getLogger(PublishedIndex.class);

  static PublishedIndex read(ObjectStore store, IndexJson json, String tenant) {
    Optional<StoredObject> current = store.get(IndexLayout.currentPointer(tenant));
    if (current.isEmpty()) {
      return new PublishedIndex(null, null, null);
    }
    StoredObject o = current.get();
    CurrentPointer pointer;
    try {
      pointer = json.pointer(o.bytes());
    } catch (CorruptIndexException e) {
      log.warn("tenant {}: unreadable CURRENT pointer, the next build replaces it: {}", tenant, e.getMessage());
      return new PublishedIndex(o.etag(), null, null);
    }
    IndexManifest manifest = null;
    if (pointer.manifestKey() != null) {
      Optional<StoredObject> m = store.get(pointer.manifestKey());
      try {
        manifest = m.isEmpty() ? null : json.manifest(m.get().bytes());
        if (manifest != null && (!tenant.equals(manifest.tenant()) || !pointer.version().equals(manifest.version()))) {
          // Announced or compared as the tenant's, it would speak for another index.
          throw new CorruptIndexException("it describes " + manifest.tenant() + "/" + manifest.version());
        }
      } catch (CorruptIndexException e) {
        log.warn("tenant {}: unreadable manifest {}, the next build replaces it: {}", tenant, pointer.manifestKey(),
            e.getMessage());
        manifest = null;
      }
    }
    return new PublishedIndex(o.etag(), pointer, manifest);
  }

  /**
   * Since when CURRENT has named its version: the flip's time the pointer records, or null when it
   * records none (then nothing is known to have outlived a reader's swap).
   */
  Instant currentSince() {
    return pointer == null || pointer.updatedAtMs() <= 0 ? null : Instant.ofEpochMilli(pointer.updatedAtMs());
  }

  String version() {
    return pointer == null ? null : pointer.version();
  }

  ModelKey model() {
    return manifest == null || manifest.modelName() == null ? null : new ModelKey(manifest.modelName(), manifest.modelVersion(),
        manifest.signature() == null ? "" : manifest.signature(),
        manifest.vectorVariant() == null ? "" : manifest.vectorVariant());
  }
}
