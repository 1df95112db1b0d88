package io.visualsearch.indexbuilder;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;

/**
 * Which of a tenant's index versions may be deleted. Never the current one, nor the one before
 * it (a search instance may still be loading or serving it while it swaps), nor any newer than
 * the current one (another builder may be about to flip to it); the rest once older than the
 * retention period.
 */
final class RetentionPolicy {

  private final Duration retention;

  RetentionPolicy(Duration retention) {
    this.retention = retention;
  }

  /**
   * @param versions every version found under the tenant's prefix
   * @param current the version CURRENT points to
   * @param previous the version CURRENT pointed to before, when known; else the newest version
   *     older than the current one is kept in its place
   */
  List<String> deletable(SortedSet<String> versions, String current, String previous, Instant now) {
    if (current == null || !versions.contains(current)) {
      // Without a known current version nothing is provably unused.
      return List.of();
    }
    SortedSet<String> older = versions.headSet(current);
    String keep = previous != null ? previous : older.isEmpty() ? null : older.last();
    List<String> out = new ArrayList<>();
    for (String v : older) {
      if (v.equals(keep)) {
        continue;
      }
      Instant created = IndexVersions.createdAt(v);
      if (created != null && !created.plus(retention).isAfter(now)) {
        out.add(v);
      }
    }
    return out;
  }
}
