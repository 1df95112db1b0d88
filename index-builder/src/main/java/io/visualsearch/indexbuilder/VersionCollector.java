package io.visualsearch.indexbuilder;

import io.visualsearch.indexformat.IndexLayout;
import io.visualsearch.objectstore.ObjectStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/** Deletes a tenant's index versions that {@link RetentionPolicy} lets go. */
final class VersionCollector {

  private final ObjectStore store;
  private final RetentionPolicy policy;

  VersionCollector(ObjectStore store, RetentionPolicy policy) {
    this.store = store;
    this.policy = policy;
  }

  /**
   * Returns the versions deleted. The manifest goes first, so a half-deleted version is never mistaken for a whole one.
   *
   * @param currentSince when CURRENT was flipped to {@code current}, or null when not known
   */
  List<String> collect(String tenant, String current, String previous, Instant currentSince, Instant now) {
    Set<String> keys = new LinkedHashSet<>(store.list(IndexLayout.tenantPrefix(tenant)));
    SortedSet<String> versions = new TreeSet<>();
    for (String k : keys) {
      String v = IndexLayout.versionOf(tenant, k);
      if (v != null) {
        versions.add(v);
      }
    }
    // A version older than CURRENT without a manifest is an upload that never finished (its
    // builder died, or lost the race while its files were going up): it can never be published,
    // and it must not take one of the places kept for versions to roll back to.
    SortedSet<String> whole = new TreeSet<>();
    List<String> deleted = new ArrayList<>();
    for (String v : versions) {
      boolean unfinished = current != null && v.compareTo(current) < 0 && !v.equals(previous)
          && !keys.contains(IndexLayout.manifest(tenant, v)) && IndexVersions.createdAt(v) != null;
      if (unfinished) {
        delete(tenant, v, keys);
        deleted.add(v);
      } else {
        whole.add(v);
      }
    }
    for (String v : policy.deletable(whole, current, previous, currentSince, now)) {
      delete(tenant, v, keys);
      deleted.add(v);
    }
    java.util.Collections.sort(deleted);
    return deleted;
  }

  /** Deletes one version that was never published (its build failed or lost the race); returns the objects deleted. */
  int discard(String tenant, String version) {
    String prefix = IndexLayout.versionPrefix(tenant, version);
    List<String> keys = store.list(prefix);
    delete(tenant, version, keys);
    return keys.size();
  }

  private void delete(String tenant, String version, java.util.Collection<String> keys) {
    String prefix = IndexLayout.versionPrefix(tenant, version);
    String manifest = IndexLayout.manifest(tenant, version);
    if (keys.contains(manifest)) {
      store.delete(manifest);
    }
    for (String k : keys) {
      if (k.startsWith(prefix) && !k.equals(manifest)) {
        store.delete(k);
      }
    }
  }
}
