package io.visualsearch.responseconsumer;

import io.visualsearch.indexformat.IndexLayout;
import io.visualsearch.objectstore.ObjectStore;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Where a tenant's similar-items runs left off: the last product whose file was written, in
 * {@code similar/<tenant>/_cursor} (never a {@code .json} file, so never taken for a product's).
 * Each run starts after it and wraps around. A tenant republished faster than its run takes has
 * each run overtaken part-way; starting from the first product every time, those runs rewrote the
 * same first files and never reached the rest.
 */
final class WriteCursor {

  private final ObjectStore store;

  WriteCursor(ObjectStore store) {
    this.store = store;
  }

  static String key(String tenant) {
    return "similar/" + IndexLayout.validTenant(tenant) + "/_cursor";
  }

  /** {@code sorted} rotated to start after the product the tenant's last run wrote last. */
  List<String> order(String tenant, List<String> sorted) {
    String last = store.get(key(tenant)).map(o -> new String(o.bytes(), StandardCharsets.UTF_8)).orElse(null);
    if (last == null) {
      return sorted;
    }
    int at = Collections.binarySearch(sorted, last);
    int from = at >= 0 ? at + 1 : -at - 1;
    List<String> out = new ArrayList<>(sorted.subList(from, sorted.size()));
    out.addAll(sorted.subList(0, from));
    return out;
  }

  void wrote(String tenant, String lastSku) {
    store.put(key(tenant), lastSku.getBytes(StandardCharsets.UTF_8), "text/plain; charset=utf-8");
  }
}
