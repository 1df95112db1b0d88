package io.visualsearch.deploy;

import io.visualsearch.topics.Topic;
import io.visualsearch.topics.TopicLayoutException.Problem;
import java.util.ArrayList;
import java.util.List;

/**
 * What topic-init tells the operator to do about each topic it refused. The remedy depends on the
 * topic: a compacted one (catalog.products, images.ready, embeddings, index.published) is the only
 * copy of its keys' latest records (the catalog-downloader sends only differences from its saved
 * snapshot, index manifests record offsets of these very topics), so deleting it to recreate it
 * loses every catalog; recreation is offered only for the others, with what it loses.
 */
final class LayoutAdvice {

  private LayoutAdvice() {}

  /** One line per problem, then what would accept every topic as it is. */
  static List<String> lines(List<Problem> problems) {
    List<String> lines = new ArrayList<>();
    for (Problem p : problems) {
      lines.add(p.toString());
      lines.add(switch (p.kind()) {
        case FEWER_PARTITIONS -> fewerPartitions(p.topic(), p.found());
        case OTHER_REPLICATION_FACTOR -> otherReplicationFactor(p.topic(), p.found());
      });
    }
    String summary = "refused: a config change cannot fix that; no topic was deleted or repartitioned";
    int fewest = problems.stream().filter(p -> p.kind() == Problem.Kind.FEWER_PARTITIONS)
        .mapToInt(Problem::found).min().orElse(0);
    if (fewest > 0) {
      // More partitions than asked are accepted: the fewest any topic has suits them all.
      summary += "; TOPICS_PARTITIONS=" + fewest + " accepts every topic's partitions as they are";
    }
    lines.add(summary);
    return lines;
  }

  private static String fewerPartitions(Topic topic, int found) {
    if (topic.compacted()) {
      return topic.name() + " is compacted: never delete or recreate it, nor add partitions to it (it is the only copy"
          + " of its keys' latest records: the catalog-downloader sends only differences from its snapshot, and index"
          + " manifests hold offsets of this topic). Set TOPICS_PARTITIONS=" + found + ", the partitions it has; to"
          + " repartition, see deploy/README.md, \"Topics\" (a new deployment synced from every feed)";
    }
    return topic.name() + ": set TOPICS_PARTITIONS=" + found + ", the partitions it has, or recreate it"
        + " (delete it while no service runs, then run topic-init again), which loses " + lostWith(topic);
  }

  private static String otherReplicationFactor(Topic topic, int found) {
    String advice = topic.name() + ": move its replicas with kafka-reassign-partitions, or set"
        + " TOPICS_REPLICATION_FACTOR=" + found + ", what it has";
    return topic.compacted() ? advice + "; never delete or recreate it (compacted: the only copy of its keys'"
        + " latest records)" : advice;
  }

  private static String lostWith(Topic topic) {
    return topic.name().endsWith(Topic.DLQ_SUFFIX)
        ? "every dead letter on it: redrive the ones worth keeping first (DeadLetterRedriveMain, deploy/README.md)"
        : "every record on it";
  }
}
