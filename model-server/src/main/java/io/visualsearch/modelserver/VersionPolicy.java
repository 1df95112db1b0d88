package io.visualsearch.modelserver;

import java.util.OptionalLong;

/**
 * Which version answers a request that names none, and whether other versions answer requests
 * that name theirs: the newest (TensorFlow Serving's {@code latest}); exactly one (its
 * {@code specific}); or a chosen default beside the other newest versions on disk, which is how a
 * version is rolled back without refusing the queries of indexes built with the withdrawn one.
 *
 * @param chosen the default version; empty for the newest
 * @param exclusive whether the chosen version is the only one served
 */
public record VersionPolicy(OptionalLong chosen, boolean exclusive) {

  public static VersionPolicy latest() {
    return new VersionPolicy(OptionalLong.empty(), false);
  }

  public static VersionPolicy pinned(long version) {
    return new VersionPolicy(OptionalLong.of(version), true);
  }

  public static VersionPolicy byDefault(long version) {
    return new VersionPolicy(OptionalLong.of(version), false);
  }

  /** The policy of a pin that may be absent: the pinned version alone, or the newest. */
  static VersionPolicy pinnedOrLatest(OptionalLong pinned) {
    return pinned.isPresent() ? pinned(pinned.getAsLong()) : latest();
  }

  /** May {@code version} answer requests that name none? */
  boolean mayBeDefault(long version) {
    return chosen.isEmpty() || chosen.getAsLong() == version;
  }

  /** May {@code version}, not the default, answer requests that name it? */
  boolean mayServeBeside(long version, long defaultVersion) {
    // The newest version is the default unless it failed to load: a newer one is one that failed.
    return !exclusive && (chosen.isPresent() || version < defaultVersion);
  }
}
