package io.visualsearch.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.visualsearch.stack.EmbeddedKafka;
import io.visualsearch.topics.Topics;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * topic-init against a broker where a topic already exists as a broker with
 * auto.create.topics.enable=true would have made it from a service's first request: delete policy,
 * the broker's partition count.
 */
class ITTopicInit {

  @TempDir Path dir;
  EmbeddedKafka kafka;
  Admin admin;

  @BeforeEach
  void start() throws Exception {
    kafka = SingleBroker.start(dir);
    Properties p = new Properties();
    p.put("bootstrap.servers", kafka.bootstrapServers());
    admin = Admin.create(p);
  }

  @AfterEach
  void stop() {
    if (admin != null) {
      admin.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }


  private Map<String, String> env(int partitions) {
    return Map.of("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers(), "TOPICS_PARTITIONS", String.valueOf(partitions),
        "TOPICS_REPLICATION_FACTOR", "1");
  }

  private void createWithBrokerDefaults(String topic, int partitions) throws Exception {
    admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1)
        .configs(Map.of("cleanup.policy", "delete", "retention.ms", "604800000")))).all().get(30, TimeUnit.SECONDS);
  }

  /** The value once the broker answering shows it: an alter commits on the controller first. */
  private String eventually(String topic, String key, String expected) throws Exception {
    String value = null;
    for (int i = 0; i < 100 && !expected.equals(value); i++) {
      if (i > 0) {
        Thread.sleep(100);
      }
      value = configOf(topic).get(key).value();
    }
    return value;
  }

  private Config configOf(String topic) throws Exception {
    ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    return admin.describeConfigs(List.of(r)).all().get(30, TimeUnit.SECONDS).get(r);
  }

  @Test
  void anEmbeddingsTopicMadeWithDeletePolicyIsCompactedAfterwards() throws Exception {
    createWithBrokerDefaults(Topics.EMBEDDINGS.name(), 2);

    assertEquals(0, TopicInitMain.run(env(2)));

    assertEquals("compact", eventually(Topics.EMBEDDINGS.name(), "cleanup.policy", "compact"));
    Config embeddings = configOf(Topics.EMBEDDINGS.name());
    assertEquals("60000", embeddings.get("min.compaction.lag.ms").value());
    assertEquals("604800000", embeddings.get("delete.retention.ms").value(), "tombstones kept as long as dead letters");
    assertEquals("false", embeddings.get("unclean.leader.election.enable").value());
    assertEquals("1", embeddings.get("min.insync.replicas").value(), "min(2, replication factor 1)");
    Config created = configOf(Topics.SERVICE_HEALTH.name());
    assertEquals("7200000", created.get("retention.ms").value());
    assertEquals("1", created.get("min.insync.replicas").value());
    assertEquals(Topics.all().size(), admin.listTopics().names().get(30, TimeUnit.SECONDS).stream()
        .filter(n -> Topics.all().stream().anyMatch(t -> t.name().equals(n))).count());
    assertEquals(0, TopicInitMain.run(env(2)), "again: nothing to do");
  }

  @Test
  void anOperatorsHigherMinInsyncReplicasIsKeptWhileTheRestIsRepaired() throws Exception {
    admin.createTopics(List.of(new NewTopic(Topics.EMBEDDINGS.name(), 2, (short) 1)
        .configs(Map.of("cleanup.policy", "delete", "min.insync.replicas", "3")))).all().get(30, TimeUnit.SECONDS);

    assertEquals(0, TopicInitMain.run(env(2)));

    assertEquals("compact", eventually(Topics.EMBEDDINGS.name(), "cleanup.policy", "compact"));
    assertEquals("3", configOf(Topics.EMBEDDINGS.name()).get("min.insync.replicas").value(),
        "three of five replicas, say: the operator's choice, not lowered to the project's floor");
  }

  @Test
  void aTopicWithFewerPartitionsIsRefusedWithItsConfigsRepairedAllTheSame() throws Exception {
    createWithBrokerDefaults(Topics.EMBEDDINGS.name(), 1);

    assertEquals(4, TopicInitMain.run(env(2)), "adding a partition would move keys of a compacted topic");

    assertEquals("compact", eventually(Topics.EMBEDDINGS.name(), "cleanup.policy", "compact"));
    assertEquals(1, admin.describeTopics(List.of(Topics.EMBEDDINGS.name())).allTopicNames().get(30, TimeUnit.SECONDS)
        .get(Topics.EMBEDDINGS.name()).partitions().size(), "left as it is");
    assertEquals(0, TopicInitMain.run(env(1)), "more partitions than asked are fine: the operator may accept it");
  }
}
