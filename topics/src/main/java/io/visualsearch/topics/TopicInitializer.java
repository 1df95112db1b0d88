package io.visualsearch.topics;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Creates missing topics with their configuration and brings existing ones back to it. Several
 * services may start at once and race to create the same topics: a topic someone else created
 * in the meantime is not an error, and is not reported as created here.
 *
 * <p>An existing topic may have been made by something else: a broker with
 * {@code auto.create.topics.enable=true} creates one with its defaults (delete policy, 7 days) from
 * a client's first metadata request. Its configs ({@code cleanup.policy}, retention, ...) are set
 * back to the topic's own, which is safe at any time; {@code min.insync.replicas} is raised to the
 * topic's floor when below it, and an operator's higher value is kept. Fewer
 * partitions than asked, or another replication factor, are refused with
 * {@link TopicLayoutException} after those repairs: adding partitions moves keys to other partitions
 * (a compacted topic would then replay a product's stale state beside its new one), and changing
 * replicas is a reassignment for the operator, not a config.
 */
public final class TopicInitializer {

  /** What one call did: topics it created, and the configs it set on topics that existed. */
  public record Outcome(List<String> created, Map<String, Map<String, String>> repaired) {}

  private final Admin admin;
  private final int partitions;
  private final short replicationFactor;

  public TopicInitializer(Admin admin, int partitions, short replicationFactor) {
    this.admin = admin;
    this.partitions = partitions;
    this.replicationFactor = replicationFactor;
  }

  /**
   * At most 2: with {@code acks=all} a write then is on two brokers before it counts, and one
   * broker may be down without stopping writes once the replication factor is 3 or more.
   */
  public static int minInsyncReplicas(short replicationFactor) {
    return Math.min(2, replicationFactor);
  }

  /** The configs a topic is created with and kept at: its own plus {@code min.insync.replicas}. */
  Map<String, String> configsOf(Topic topic) {
    Map<String, String> configs = new HashMap<>(topic.configs());
    configs.putIfAbsent(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, String.valueOf(minInsyncReplicas(replicationFactor)));
    return configs;
  }

  /**
   * Returns the names this call created.
   *
   * @throws TopicLayoutException when an existing topic has fewer partitions or another replication
   *     factor (its configs are repaired all the same)
   */
  public List<String> ensure(List<Topic> topics) throws ExecutionException, InterruptedException, TimeoutException {
    return apply(topics).created();
  }

  /** As {@link #ensure}, also telling which configs of existing topics it set back. */
  public Outcome apply(List<Topic> topics) throws ExecutionException, InterruptedException, TimeoutException {
    Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
    List<NewTopic> missing = new ArrayList<>();
    List<Topic> present = new ArrayList<>();
    for (Topic t : topics) {
      if (existing.contains(t.name())) {
        present.add(t);
      } else {
        missing.add(new NewTopic(t.name(), partitions, replicationFactor).configs(configsOf(t)));
      }
    }
    List<String> created = create(missing);
    Map<String, Map<String, String>> repaired = repairConfigs(present);
    List<String> problems = layoutProblems(present);
    Outcome outcome = new Outcome(created, repaired);
    if (!problems.isEmpty()) {
      throw new TopicLayoutException(problems, outcome);
    }
    return outcome;
  }

  private List<String> create(List<NewTopic> missing) throws ExecutionException, InterruptedException,
      TimeoutException {
    List<String> created = new ArrayList<>();
    if (missing.isEmpty()) {
      return created;
    }
    // Each topic's outcome on its own: one lost race must neither hide another topic's real
    // failure nor count as a creation.
    Map<String, KafkaFuture<Void>> outcomes = admin.createTopics(missing).values();
    for (NewTopic t : missing) {
      try {
        outcomes.get(t.name()).get(30, TimeUnit.SECONDS);
        created.add(t.name());
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw e;
        }
      }
    }
    return created;
  }

  private Map<String, Map<String, String>> repairConfigs(List<Topic> present) throws ExecutionException,
      InterruptedException, TimeoutException {
    Map<String, Map<String, String>> repaired = new LinkedHashMap<>();
    if (present.isEmpty()) {
      return repaired;
    }
    List<ConfigResource> resources = present.stream()
        .map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t.name())).toList();
    var described = admin.describeConfigs(resources).all().get(30, TimeUnit.SECONDS);
    Map<ConfigResource, Collection<AlterConfigOp>> changes = new LinkedHashMap<>();
    for (Topic t : present) {
      ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, t.name());
      var current = described.get(resource);
      Map<String, String> drift = new LinkedHashMap<>();
      configsOf(t).entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(wanted -> {
        ConfigEntry entry = current.get(wanted.getKey());
        if (entry == null || !wanted.getValue().equals(entry.value()) && !strongerAlready(wanted.getKey(), wanted.getValue(), entry)) {
          drift.put(wanted.getKey(), wanted.getValue());
        }
      });
      if (!drift.isEmpty()) {
        repaired.put(t.name(), drift);
        changes.put(resource, drift.entrySet().stream()
            .map(e -> new AlterConfigOp(new ConfigEntry(e.getKey(), e.getValue()), AlterConfigOp.OpType.SET))
            .toList());
      }
    }
    if (!changes.isEmpty()) {
      admin.incrementalAlterConfigs(changes).all().get(30, TimeUnit.SECONDS);
    }
    return repaired;
  }

  /**
   * An operator's own {@code min.insync.replicas} above the project's floor (3 of 5 replicas) is a
   * choice, not drift: raised when below, never lowered.
   */
  static boolean strongerAlready(String name, String wanted, ConfigEntry entry) {
    if (!name.equals(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG) || entry.value() == null) {
      return false;
    }
    try {
      return Integer.parseInt(entry.value().trim()) > Integer.parseInt(wanted);
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private List<String> layoutProblems(List<Topic> present) throws ExecutionException, InterruptedException,
      TimeoutException {
    List<String> problems = new ArrayList<>();
    if (present.isEmpty()) {
      return problems;
    }
    Map<String, TopicDescription> descriptions = admin.describeTopics(present.stream().map(Topic::name).toList())
        .allTopicNames().get(30, TimeUnit.SECONDS);
    for (Topic t : present) {
      List<TopicPartitionInfo> parts = descriptions.get(t.name()).partitions();
      if (parts.size() < partitions) {
        problems.add("topic " + t.name() + " has " + parts.size() + " partitions, fewer than the " + partitions
            + " asked for");
      }
      parts.stream().mapToInt(p -> p.replicas().size()).filter(n -> n != replicationFactor).min()
          .ifPresent(n -> problems.add("topic " + t.name() + " has replication factor " + n + ", not the "
              + replicationFactor + " asked for"));
    }
    return problems;
  }
}
