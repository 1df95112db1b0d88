package io.visualsearch.embeddings;

/**
 * Where the deployment keeps its {@link FollowedVersion}, shared by its instances and kept across
 * restarts. Updates are compare-and-set: two instances that see the same new version at once
 * compute the same record, and the one that writes second re-reads it instead of overwriting.
 */
interface FollowedVersionStore {

  /** The record as read, with the tag a replacement must match; {@code followed} null when there is none. */
  record Read(FollowedVersion followed, String tag) {}

  Read read();

  /** Writes {@code next} only if the record is still as {@code previous} read it; false otherwise. */
  boolean replace(FollowedVersion next, Read previous);
}
