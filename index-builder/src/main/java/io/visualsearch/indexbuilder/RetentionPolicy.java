package io.visualsearch.indexbuilder;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SortedSet;

/**
 * Which of a tenant's index versions may be deleted. Never the current one, nor any newer than the
 * current one (another builder may be about to flip to it), nor the one before it while a search
 * instance may still be loading or serving it during its swap: until CURRENT has named its version
 * for the retention period (and at least {@link #MIN_SWAP_WINDOW}). The rest go once older than the
 * retention period, or once {@code keepOlder} newer ones are kept: a tenant whose catalog changes
 * all day is rebuilt every few seconds, and a day of full copies of its index is terabytes.
 *
 * <p>The one before CURRENT was kept for as long as CURRENT stayed current, which for a tenant that
 * stopped changing is for good: a retailer who emptied the catalog had its empty version published
 * and the full one before it, every vector and SKU, kept in the bucket for ever.
 */
final class RetentionPolicy {

  /**
   * How long the version before CURRENT is kept at least, whatever the retention: long enough for
   * every search instance to have read CURRENT (each polls it every minute) and downloaded the
   * version, a large tenant's in minutes.
   */
  static final Duration MIN_SWAP_WINDOW = Duration.ofHours(1);

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
   * @param currentSince when CURRENT was flipped to {@code current}; null when not known, which
   *     keeps the one before it
   */
  List<String> deletable(SortedSet<String> versions, String current, String previous, Instant currentSince,
      Instant now) {
    if (current == null || !versions.contains(current)) {
      // Without a known current version nothing is provably unused.
      return List.of();
    }
    SortedSet<String> older = versions.headSet(current);
    String keep = swapOver(currentSince, now) ? null
        : previous != null ? previous : older.isEmpty() ? null : older.last();
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

  /** Whether CURRENT has named its version long enough that no reader still needs the one before. */
  private boolean swapOver(Instant currentSince, Instant now) {
    Duration window = retention.compareTo(MIN_SWAP_WINDOW) > 0 ? retention : MIN_SWAP_WINDOW;
    return currentSince != null && !currentSince.plus(window).isAfter(now);
  }
}
