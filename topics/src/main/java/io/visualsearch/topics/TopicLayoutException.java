package io.visualsearch.topics;

import java.util.List;

/**
 * Existing topics laid out unlike the ones {@link TopicInitializer} would create (fewer partitions,
 * another replication factor), which no config change can repair without losing data or order.
 */
public final class TopicLayoutException extends IllegalStateException {

  /**
   * One topic laid out otherwise: what it has ({@code found}) against what was asked. The topic
   * itself comes along because the remedy depends on it: a compacted topic must never be recreated.
   */
  public record Problem(Topic topic, Kind kind, int found, int asked) {

    public enum Kind { FEWER_PARTITIONS, OTHER_REPLICATION_FACTOR }

    @Override
    public String toString() {
      return switch (kind) {
        case FEWER_PARTITIONS -> "topic " + topic.name() + " has " + found + " partitions, fewer than the " + asked
            + " asked for";
        case OTHER_REPLICATION_FACTOR -> "topic " + topic.name() + " has replication factor " + found + ", not the "
            + asked + " asked for";
      };
    }
  }

  private final List<Problem> problems;
  private final TopicInitializer.Outcome outcome;

  public TopicLayoutException(List<Problem> problems, TopicInitializer.Outcome outcome) {
    super(String.join("; ", problems.stream().map(Problem::toString).toList()));
    this.problems = List.copyOf(problems);
    this.outcome = outcome;
  }

  public List<Problem> problems() {
    return problems;
  }

  /** What the call did all the same: topics created, configs repaired. */
  public TopicInitializer.Outcome outcome() {
    return outcome;
  }
}
