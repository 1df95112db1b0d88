package io.visualsearch.searchapi.index;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The version each tenant is served from. A swap installs the new version with one atomic map
 * write; queries that already hold the old one keep searching it, and it is freed when the last
 * of them finishes. No query ever sees a freed index: taking a reference and reading the map
 * race only with a swap, and a lost race is retried against the new version.
 */
public final class TenantIndexes implements AutoCloseable {

  private final Map<String, LoadedIndex> served = new ConcurrentHashMap<>();
  private final Consumer<LoadedIndex> onInstalled;
  /** Set before close retires the versions: a load finishing after it must not install into nothing. */
  private volatile boolean closed;

  /** {@code onInstalled} runs after a version became the served one (e.g. to prune the fresh delta). */
  public TenantIndexes(Consumer<LoadedIndex> onInstalled) {
    this.onInstalled = onInstalled;
  }

  /** A lease on the tenant's served version, or empty when the tenant has none yet. */
  public Optional<IndexLease> acquire(String tenant) {
    while (true) {
      LoadedIndex index = served.get(tenant);
      if (index == null) {
        return Optional.empty();
      }
      if (index.tryRetain()) {
        return Optional.of(new IndexLease(index));
      }
      // Retired between the read and the retain: the map already holds its successor.
      Thread.onSpinWait();
    }
  }

  /** The served version's name, without taking a reference. */
  public Optional<String> servedVersion(String tenant) {
    LoadedIndex index = served.get(tenant);
    return index == null ? Optional.empty() : Optional.of(index.version());
  }

  public Map<String, String> servedVersions() {
    Map<String, String> out = new java.util.TreeMap<>();
    served.forEach((t, i) -> out.put(t, i.version()));
    return out;
  }

  /**
   * Serves {@code next} for its tenant and retires the previous version. The caller hands over
   * its reference to {@code next}: if {@code next} is the version already served, or the registry
   * is closed, it is released.
   */
  public void install(LoadedIndex next) {
    LoadedIndex[] previous = new LoadedIndex[1];
    boolean[] dropped = new boolean[1];
    served.compute(next.tenant(), (tenant, current) -> {
      if (closed || current != null && current.version().equals(next.version())) {
        dropped[0] = true;
        return current;
      }
      previous[0] = current;
      return next;
    });
    if (dropped[0]) {
      next.release();
      return;
    }
    onInstalled.accept(next);
    if (previous[0] != null) {
      previous[0].release();
    }
  }

  /** Retires every served version (in-flight queries still finish on theirs). */
  @Override
  public void close() {
    closed = true;
    for (String tenant : served.keySet()) {
      LoadedIndex index = served.remove(tenant);
      if (index != null) {
        index.release();
      }
    }
  }
}
