package io.visualsearch.deploy;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.stack.EmbeddedKafka;
import io.visualsearch.topics.Topics;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
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

  /** topic-init's exit code and all it printed, out and err interleaved as an operator reads them. */
  private record Run(int exit, String output) {
    List<String> lines() {
      return output.lines().toList();
    }
  }

  private Run topicInit(int partitions) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream print = new PrintStream(bytes, true, UTF_8);
    int exit = TopicInitMain.run(env(partitions), print, print);
    String output = bytes.toString(UTF_8);
    System.out.print(output);
    return new Run(exit, output);
  }

  private void setConfig(String topic, String key, String value) throws Exception {
    ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    admin.incrementalAlterConfigs(Map.of(r, List.of(new AlterConfigOp(new ConfigEntry(key, value),
        AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
    assertEquals(value, eventually(topic, key, value), "topic-init must see the operator's value");
  }

  private int partitionsOf(String topic) throws Exception {
    return admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic).partitions().size();
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

    assertEquals(0, topicInit(2).exit());

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
    assertEquals(0, topicInit(2).exit(), "again: nothing to do");
  }

  @Test
  void anOperatorsHigherMinInsyncReplicasIsKeptWhileTheRestIsRepaired() throws Exception {
    admin.createTopics(List.of(new NewTopic(Topics.EMBEDDINGS.name(), 2, (short) 1)
        .configs(Map.of("cleanup.policy", "delete", "min.insync.replicas", "3")))).all().get(30, TimeUnit.SECONDS);

    assertEquals(0, topicInit(2).exit());

    assertEquals("compact", eventually(Topics.EMBEDDINGS.name(), "cleanup.policy", "compact"));
    assertEquals("3", configOf(Topics.EMBEDDINGS.name()).get("min.insync.replicas").value(),
        "three of five replicas, say: the operator's choice, not lowered to the project's floor");
  }

  @Test
  void aTopicWithFewerPartitionsIsRefusedWithItsConfigsRepairedAllTheSame() throws Exception {
    createWithBrokerDefaults(Topics.EMBEDDINGS.name(), 1);

    assertEquals(4, topicInit(2).exit(), "adding a partition would move keys of a compacted topic");

    assertEquals("compact", eventually(Topics.EMBEDDINGS.name(), "cleanup.policy", "compact"));
    assertEquals(1, partitionsOf(Topics.EMBEDDINGS.name()), "left as it is");
    assertEquals(0, topicInit(1).exit(), "more partitions than asked are fine: the operator may accept it");
  }

  /**
   * Recreating a compacted topic destroys the only copy of every catalog (the downloader sends
   * differences only; index manifests hold its offsets): the advice for it is to accept the
   * partitions it has. Only a non-compacted topic is offered recreation, with what that loses.
   */
  @Test
  void aCompactedTopicWithFewerPartitionsIsNeverAdvisedToBeDeleted() throws Exception {
    String products = Topics.CATALOG_PRODUCTS.name();
    String letters = Topics.EMBEDDINGS.dlq().name();
    admin.createTopics(List.of(new NewTopic(products, 3, (short) 1).configs(Topics.CATALOG_PRODUCTS.configs()),
        new NewTopic(letters, 3, (short) 1).configs(Topics.EMBEDDINGS.dlq().configs()))).all().get(30, TimeUnit.SECONDS);

    Run run = topicInit(6);

    assertEquals(4, run.exit());
    assertTrue(run.output().contains("topic " + products + " has 3 partitions"), run.output());
    assertTrue(run.lines().stream().anyMatch(l -> l.contains(products + " is compacted") && l.contains("TOPICS_PARTITIONS=3")
        && l.contains("deploy/README.md")), "its own count to set, and where repartitioning is described:\n" + run.output());
    for (String line : run.lines()) {
      assertFalse(line.contains("while no service runs") && !line.contains(letters),
          "only the dead-letter topic may be offered recreation: " + line);
    }
    assertTrue(run.lines().stream().anyMatch(l -> l.contains(letters) && l.contains("while no service runs")
        && l.contains("dead letter")), "recreating it is offered, saying its letters go:\n" + run.output());
    assertEquals(3, partitionsOf(products), "left as it is");
    assertEquals(0, topicInit(3).exit(), "the count it printed accepts them");
  }

  /**
   * An SRE raised a dead-letter topic's retention to keep letters for a redrive: the next
   * release's topic-init must not set it back and let the broker delete them. A value below the
   * project's is still raised.
   */
  @Test
  void aLongerRetentionAnOperatorSetIsKeptAndAShorterOneRaised() throws Exception {
    assertEquals(0, topicInit(2).exit());
    String longer = Topics.IMAGES_READY.dlq().name();
    String infinite = Topics.CATALOG_PRODUCTS.dlq().name();
    String shorter = Topics.EMBEDDINGS.dlq().name();
    setConfig(longer, "retention.ms", "2592000000");
    setConfig(infinite, "retention.ms", "-1");
    setConfig(shorter, "retention.ms", "3600000");

    Run run = topicInit(2);

    assertEquals(0, run.exit());
    assertEquals("604800000", eventually(shorter, "retention.ms", "604800000"), "an hour is raised to the week");
    // Every topic's configs go in the one alter that raised the hour: it shows, so would a lowering.
    assertEquals("2592000000", configOf(longer).get("retention.ms").value(), "30 days kept");
    assertEquals("-1", configOf(infinite).get("retention.ms").value(), "infinite retention kept");
    assertTrue(run.lines().stream().anyMatch(l -> l.contains("kept") && l.contains("retention.ms=2592000000")
        && l.contains(longer)), "says what it left:\n" + run.output());
    assertTrue(run.lines().stream().anyMatch(l -> l.contains("set") && l.contains("retention.ms=604800000")
        && l.contains(shorter)), run.output());
  }
}
