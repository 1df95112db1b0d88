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

  /** Returns the versions deleted. The manifest goes first, so a half-deleted version is never mistaken for a whole one. */
  List<String> collect(String tenant, String current, String previous, Instant now) {
    Set<String> keys = new LinkedHashSet<>(store.list(IndexLayout.tenantPrefix(tenant)));
    SortedSet<String> versions = new TreeSet<>();
    for (String k : keys) {
      String v = IndexLayout.versionOf(tenant, k);
      if (v != null) {
        versions.add(v);
      }
    }
    List<String> deleted = new ArrayList<>();
    for (String v : policy.deletable(versions, current, previous, now)) {
      String prefix = IndexLayout.versionPrefix(tenant, v);
      String manifest = IndexLayout.manifest(tenant, v);
      if (keys.contains(manifest)) {
        store.delete(manifest);
      }
      for (String k : keys) {
        if (k.startsWith(prefix) && !k.equals(manifest)) {
          store.delete(k);
        }
      }
      deleted.add(v);
    }
    return deleted;
  }
}
