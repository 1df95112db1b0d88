package io.visualsearch.topics;

import java.util.List;

/**
 * Existing topics laid out unlike the ones {@link TopicInitializer} would create (fewer partitions,
 * another replication factor), which no config change can repair without losing data or order.
 */
public final class TopicLayoutException extends IllegalStateException {

  private final List<String> problems;
  private final TopicInitializer.Outcome outcome;

  public TopicLayoutException(List<String> problems, TopicInitializer.Outcome outcome) {
    super(String.join("; ", problems));
    this.problems = List.copyOf(problems);
    this.outcome = outcome;
  }

  public List<String> problems() {
    return problems;
  }

  /** What the call did all the same: topics created, configs repaired. */
  public TopicInitializer.Outcome outcome() {
    return outcome;
  }
}
