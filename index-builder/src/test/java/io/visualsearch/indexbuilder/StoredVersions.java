package io.visualsearch.indexbuilder;

import io.visualsearch.indexformat.IndexLayout;
import io.visualsearch.objectstore.ObjectStore;
import java.util.TreeSet;

/** The index versions a tenant has in the bucket, as the collector sees them (any file of theirs). */
final class StoredVersions {

  private StoredVersions() {}

  static TreeSet<String> of(ObjectStore store, String tenant) {
    TreeSet<String> out = new TreeSet<>();
    for (String k : store.list(IndexLayout.tenantPrefix(tenant))) {
      String v = IndexLayout.versionOf(tenant, k);
      if (v != null) {
        out.add(v);
      }
    }
    return out;
  }
}
