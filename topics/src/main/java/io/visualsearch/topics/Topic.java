package io.visualsearch.topics;

import java.util.Map;

/**
 * One topic of the pipeline and how it must be configured. Product-keyed topics are compacted so
 * that the latest state of every product (and its tombstone, for a while) is always replayable.
 */
public record Topic(String name, boolean compacted, Map<String, String> configs) {

  public static final String DLQ_SUFFIX = ".dlq";

  public Topic dlq() {
    // A week of poison records: long enough for a retailer to fix a feed and replay.
    return new Topic(name + DLQ_SUFFIX, false, Map.of("cleanup.policy", "delete", "retention.ms", "604800000"));
  }
}
