package io.visualsearch.indexbuilder;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SortedSet;

/**
 * Which of a tenant's index versions may be deleted. Never the current one, nor the one before
 * it (a search instance may still be loading or serving it while it swaps), nor any newer than
 * the current one (another builder may be about to flip to it); the rest once older than the
 * retention period, or once {@code keepOlder} newer ones are kept: a tenant whose catalog changes
 * all day is rebuilt every few seconds, and a day of full copies of its index is terabytes.
 */
final class RetentionPolicy {

  private final Duration retention;
  private final int keepOlder;

  /**
   * @param keepOlder how many versions older than the current one, besides the one before it, are
   *     kept while inside the retention period (the newest of them)
   */
  RetentionPolicy(Duration retention, int keepOlder) {
    this.retention = retention;
    this.keepOlder = keepOlder;
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
    int kept = 0;
    List<String> newestFirst = new ArrayList<>(older);
    Collections.reverse(newestFirst);
    for (String v : newestFirst) {
      if (v.equals(keep)) {
        continue;
      }
      Instant created = IndexVersions.createdAt(v);
      if (created == null) {
        continue; // not a version this builder named: never provably ours to delete
      }
      if (!created.plus(retention).isAfter(now) || kept >= keepOlder) {
        out.add(v);
      } else {
        kept++;
      }
    }
    Collections.sort(out);
    return out;
  }
}
