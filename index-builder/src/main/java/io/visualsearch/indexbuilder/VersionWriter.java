package io.visualsearch.indexbuilder;

import io.visualsearch.indexformat.CurrentPointer;
import io.visualsearch.indexformat.ImageKeys;
import io.visualsearch.indexformat.IndexJson;
import io.visualsearch.indexformat.IndexLayout;
import io.visualsearch.indexformat.IndexManifest;
import io.visualsearch.indexformat.Sha256;
import io.visualsearch.objectstore.ObjectStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one index version under {@code indexes/<tenant>/<version>/} — shards (with the exact
 * vectors of quantised ones), skus.tsv, images.tsv, then
 * the manifest that names them with their checksums — and only then points CURRENT at it, with a
 * write conditional on the ETag read before the build. Readers therefore never see a version
 * whose files are incomplete. A lost race (another builder flipped first) is re-read: if the
 * winner is newer, this version is abandoned to garbage collection; if it is older, the flip is
 * tried again against the new ETag.
 */
final class VersionWriter {

  private static final Logger log = LoggerFactory.getLogger(VersionWriter.class);
  private static final int FLIP_ATTEMPTS = 3;
  private static final String FAISS_TYPE = "application/octet-stream";
  private static final String TSV_TYPE = "text/tab-separated-values; charset=utf-8";
  private static final String JSON_TYPE = "application/json";
  /**
   * Vectors are L2-normalised into inner-product indexes: the similarity is cosine, and readers
   * must normalise queries (and fresh vectors) the same way. The FAISS metric is in the files.
   */
  static final String METRIC = "cosine";

  /** How the flip ended. {@code previousVersion} is what CURRENT named before (published) or now (lost). */
  record Flip(boolean published, String previousVersion) {}

  private final ObjectStore store;
  private final IndexJson json;

  VersionWriter(ObjectStore store, IndexJson json) {
    this.store = store;
    this.json = json;
  }

  /** Uploads the files and returns the manifest describing them (already uploaded). */
  IndexManifest upload(String tenant, String version, BuiltIndex built, ManifestFacts facts) {
    List<IndexManifest.ShardFile> shards = new ArrayList<>();
    for (BuiltIndex.Shard s : built.shards()) {
      store.put(IndexLayout.file(tenant, version, s.fileName()), s.file(), FAISS_TYPE);
      IndexManifest.IndexFile exact = null;
      if (s.exactVectors() != null) {
        Path file = s.exactVectors().file();
        String name = s.exactVectors().fileName();
        store.put(IndexLayout.file(tenant, version, name), file, FAISS_TYPE);
        exact = new IndexManifest.IndexFile(name, size(file), sha256(file));
      }
      shards.add(new IndexManifest.ShardFile(s.fileName(), s.vectors(), size(s.file()), sha256(s.file()), exact));
    }
    String skuFile = "skus.tsv";
    store.put(IndexLayout.file(tenant, version, skuFile), built.skuMap(), TSV_TYPE);
    store.put(IndexLayout.file(tenant, version, ImageKeys.FILE), built.imageMap(), TSV_TYPE);
    IndexManifest manifest = new IndexManifest(IndexManifest.FORMAT, tenant, version, facts.createdAtMs(),
        facts.model().name(), facts.model().version(), facts.model().signature(), facts.dimension(), METRIC,
        facts.recipe().factory(), built.vectors(), shards,
        new IndexManifest.IndexFile(skuFile, built.skuMap().length, Sha256.hex(built.skuMap())),
        facts.coveredOffsets(), facts.recipe().searchParameters(),
        new IndexManifest.IndexFile(ImageKeys.FILE, built.imageMap().length, Sha256.hex(built.imageMap())),
        facts.model().variantUnknown() ? null : facts.model().variant());
    store.put(IndexLayout.manifest(tenant, version), json.write(manifest), JSON_TYPE);
    return manifest;
  }

  private static long size(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String sha256(Path file) {
    try {
      return Sha256.hex(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  Flip flip(String tenant, IndexManifest manifest, PublishedIndex before, long nowMs) {
    String etag = before.etag();
    String previous = before.version();
    byte[] pointer = json.write(new CurrentPointer(manifest.version(), IndexLayout.manifest(tenant, manifest.version()),
        manifest.modelVersion(), nowMs));
    for (int attempt = 1; attempt <= FLIP_ATTEMPTS; attempt++) {
      if (store.replaceIfUnchanged(IndexLayout.currentPointer(tenant), pointer, JSON_TYPE, etag)) {
        return new Flip(true, previous);
      }
      PublishedIndex now = PublishedIndex.read(store, json, tenant);
      if (manifest.version().equals(now.version())) {
        // Our write landed and its answer was lost; the client's retry then met our own ETag.
        // Published, and what it replaced is still the version read before this attempt.
        return new Flip(true, previous);
      }
      log.info("tenant {}: CURRENT changed during the build (now {}), version {}", tenant, now.version(),
          now.version() != null && now.version().compareTo(manifest.version()) > 0 ? "abandoned" : "retried");
      if (now.version() != null && now.version().compareTo(manifest.version()) > 0) {
        return new Flip(false, now.version());
      }
      etag = now.etag();
      previous = now.version();
    }
    return new Flip(false, previous);
  }

  /** What the manifest records besides the files. */
  record ManifestFacts(long createdAtMs, ModelKey model, int dimension, IndexRecipe recipe,
      java.util.Map<Integer, Long> coveredOffsets) {}
}
