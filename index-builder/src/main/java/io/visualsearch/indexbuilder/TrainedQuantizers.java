package io.visualsearch.indexbuilder;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The trained, empty index of each tenant's last build, serialized. Training dominates the build
 * time of IVF indexes (k-means over up to 256 points per list), while the centroids of a catalog
 * hardly move when a few products change; reusing them makes a debounced rebuild of a large tenant
 * cost only adding and writing. Training is redone when the recipe changes (other model, other
 * list count), when the catalog has more than doubled since, or when the caller asks (periodic
 * rebuilds), so drift is corrected regularly. A build whose recipe needs no training forgets the
 * tenant's: a catalog that shrank to the exact tier or was emptied does not keep it for good.
 */
final class TrainedQuantizers {

  private record Trained(ModelKey model, String factory, int dimension, int catalogSize, byte[] emptyIndex) {}

  private final Map<String, Trained> byTenant = new ConcurrentHashMap<>();

  /** The serialized trained empty index to start from, or null to train anew. */
  byte[] reusable(String tenant, ModelKey model, String factory, int dimension, int catalogSize) {
    Trained t = byTenant.get(tenant);
    if (t == null || !t.model().equals(model) || !t.factory().equals(factory) || t.dimension() != dimension
        || catalogSize > 2L * t.catalogSize()) {
      return null;
    }
    return t.emptyIndex();
  }

  void remember(String tenant, ModelKey model, String factory, int dimension, int catalogSize, byte[] emptyIndex) {
    byTenant.put(tenant, new Trained(model, factory, dimension, catalogSize, emptyIndex));
  }

  void forget(String tenant) {
    byTenant.remove(tenant);
  }
}
