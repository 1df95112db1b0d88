package io.visualsearch.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.topics.TopicLayoutException.Problem;
import io.visualsearch.topics.Topics;
import java.util.List;
import org.junit.jupiter.api.Test;

class LayoutAdviceTest {

  private static String about(List<String> lines, String topic) {
    return lines.stream().filter(l -> l.startsWith(topic + " ") || l.startsWith(topic + ":")).findFirst().orElseThrow();
  }

  @Test
  void aCompactedTopicIsNeverToBeRecreated() {
    for (var topic : List.of(Topics.CATALOG_PRODUCTS, Topics.IMAGES_READY, Topics.EMBEDDINGS, Topics.INDEX_PUBLISHED)) {
      String advice = about(LayoutAdvice.lines(List.of(new Problem(topic, Problem.Kind.FEWER_PARTITIONS, 3, 6))),
          topic.name());
      assertTrue(advice.contains("never delete or recreate"), advice);
      assertFalse(advice.contains("while no service runs"), advice);
      assertTrue(advice.contains("TOPICS_PARTITIONS=3"), advice);
      assertTrue(advice.contains("deploy/README.md"), advice);
    }
  }

  @Test
  void aDeadLetterTopicMayBeRecreatedLosingItsLetters() {
    String advice = about(LayoutAdvice.lines(List.of(new Problem(Topics.EMBEDDINGS.dlq(), Problem.Kind.FEWER_PARTITIONS,
        2, 6))), "embeddings.dlq");
    assertTrue(advice.contains("TOPICS_PARTITIONS=2"), advice);
    assertTrue(advice.contains("while no service runs") && advice.contains("dead letter"), advice);
  }

  @Test
  void anotherReplicationFactorIsAReassignmentNeverARecreation() {
    String advice = about(LayoutAdvice.lines(List.of(new Problem(Topics.EMBEDDINGS, Problem.Kind.OTHER_REPLICATION_FACTOR,
        1, 3))), "embeddings");
    assertTrue(advice.contains("kafka-reassign-partitions") && advice.contains("TOPICS_REPLICATION_FACTOR=1"), advice);
    assertFalse(advice.contains("while no service runs"), advice);
  }

  @Test
  void theFewestPartitionsAnyTopicHasAcceptThemAll() {
    List<String> lines = LayoutAdvice.lines(List.of(
        new Problem(Topics.EMBEDDINGS, Problem.Kind.FEWER_PARTITIONS, 4, 6),
        new Problem(Topics.CATALOG_PRODUCTS, Problem.Kind.FEWER_PARTITIONS, 3, 6)));
    assertEquals("topic embeddings has 4 partitions, fewer than the 6 asked for", lines.get(0));
    assertTrue(lines.get(lines.size() - 1).contains("TOPICS_PARTITIONS=3 accepts"), lines.get(lines.size() - 1));
  }
}
