package io.visualsearch.topics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class TopicInitializerTest {

  @Test
  void acksAllMeansTwoCopiesOnceThereAreReplicasForIt() {
    assertEquals(2, TopicInitializer.minInsyncReplicas((short) 3), "one of three brokers may be down");
    assertEquals(2, TopicInitializer.minInsyncReplicas((short) 5));
    assertEquals(2, TopicInitializer.minInsyncReplicas((short) 2));
    assertEquals(1, TopicInitializer.minInsyncReplicas((short) 1), "a single broker can hold only one copy");
  }

  @Test
  void everyTopicIsCreatedWithTheMinimumInSyncReplicasOfItsReplicationFactor() {
    TopicInitializer init = new TopicInitializer(null, 6, (short) 3);
    assertEquals("2", init.configsOf(Topics.EMBEDDINGS).get("min.insync.replicas"));
    assertEquals("compact", init.configsOf(Topics.EMBEDDINGS).get("cleanup.policy"));
    assertEquals("2", init.configsOf(Topics.EMBEDDINGS.dlq()).get("min.insync.replicas"));
  }
}
