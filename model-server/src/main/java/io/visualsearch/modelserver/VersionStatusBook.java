package io.visualsearch.modelserver;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What the manager has done with each version it has seen, for GetModelStatus. Keeps the most
 * recent versions only, so a model republished every hour for a year does not grow the book.
 */
final class VersionStatusBook {

  /** ModelVersionStatus.State, without depending on generated code in the manager. */
  enum State { LOADING, AVAILABLE, UNLOADING, END }

  record Entry(long version, State state, String error) {}

  private static final int KEEP = 32;

  private final TreeMap<Long, Entry> entries = new TreeMap<>();

  synchronized void set(long version, State state) {
    put(new Entry(version, state, ""));
  }

  synchronized void failed(long version, String error) {
    put(new Entry(version, State.END, error == null || error.isEmpty() ? "load failed" : error));
  }

  /** Marks END unless a newer event (a reload of the same version) has replaced the entry. */
  synchronized void endedIfStill(long version, State expected) {
    Entry e = entries.get(version);
    if (e != null && e.state() == expected) {
      put(new Entry(version, State.END, ""));
    }
  }

  synchronized Optional<Entry> get(long version) {
    return Optional.ofNullable(entries.get(version));
  }

  /** Newest version first, like TensorFlow Serving. */
  synchronized List<Entry> all() {
    List<Entry> list = new ArrayList<>(entries.values());
    list.sort(Comparator.comparingLong(Entry::version).reversed());
    return list;
  }

  private void put(Entry e) {
    entries.put(e.version(), e);
    while (entries.size() > KEEP) {
      entries.pollFirstEntry();
    }
  }
}
