package io.visualsearch.topics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.kafka.clients.admin.ConfigEntry;

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

  @Test
  void retentionsAreFloorsAnOperatorMayRaise() {
    assertTrue(TopicInitializer.strongerAlready("retention.ms", "604800000", topicOwn("retention.ms", "2592000000")),
        "30 days on a dead-letter topic, kept for a redrive");
    assertTrue(TopicInitializer.strongerAlready("retention.ms", "604800000", topicOwn("retention.ms", "-1")),
        "infinite");
    assertFalse(TopicInitializer.strongerAlready("retention.ms", "604800000", topicOwn("retention.ms", "3600000")));
    assertTrue(TopicInitializer.strongerAlready("delete.retention.ms", "604800000",
        topicOwn("delete.retention.ms", "1209600000")));
    assertFalse(TopicInitializer.strongerAlready("delete.retention.ms", "604800000",
        topicOwn("delete.retention.ms", "86400000")), "a broker's default day: raised");
    assertTrue(TopicInitializer.strongerAlready("min.compaction.lag.ms", "60000",
        topicOwn("min.compaction.lag.ms", "3600000")));
    assertFalse(TopicInitializer.strongerAlready("min.compaction.lag.ms", "60000",
        topicOwn("min.compaction.lag.ms", "-1")), "-1 is infinite for retention.ms only");
    assertTrue(TopicInitializer.strongerAlready("min.insync.replicas", "2", new ConfigEntry("min.insync.replicas", "3")));
  }

  @Test
  void aRetentionTheBrokerGaveAnAutoCreatedTopicIsNotAnOperatorsChoice() {
    // service.health keeps two hours; the broker's week, inherited, would keep it seven days.
    assertFalse(TopicInitializer.strongerAlready("retention.ms", "7200000", new ConfigEntry("retention.ms", "604800000",
        ConfigEntry.ConfigSource.DEFAULT_CONFIG, false, false, java.util.List.of(), ConfigEntry.ConfigType.LONG, null)));
    assertFalse(TopicInitializer.strongerAlready("retention.ms", "7200000", new ConfigEntry("retention.ms", "604800000",
        ConfigEntry.ConfigSource.STATIC_BROKER_CONFIG, false, false, java.util.List.of(), ConfigEntry.ConfigType.LONG, null)));
    assertTrue(TopicInitializer.strongerAlready("retention.ms", "7200000", topicOwn("retention.ms", "604800000")));
  }

  /** A config set on the topic itself, as an operator's kafka-configs --alter sets it. */
  private static ConfigEntry topicOwn(String name, String value) {
    return new ConfigEntry(name, value, ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, false, false,
        java.util.List.of(), ConfigEntry.ConfigType.LONG, null);
  }

  @Test
  void policiesAreSetWhateverTheyAre() {
    assertFalse(TopicInitializer.strongerAlready("cleanup.policy", "compact", new ConfigEntry("cleanup.policy", "delete")));
    assertFalse(TopicInitializer.strongerAlready("unclean.leader.election.enable", "false",
        new ConfigEntry("unclean.leader.election.enable", "true")));
  }
}
