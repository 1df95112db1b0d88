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
 * a client's first metadata request. Its {@code cleanup.policy} and
 * {@code unclean.leader.election.enable} are set back to the topic's own, which is safe at any time.
 * The rest are floors ({@link #FLOORS}): raised when below, and an operator's higher value (or
 * infinite retention) is kept, since setting it back would delete what they chose to keep. Fewer
 * partitions than asked, or another replication factor, are refused with
 * {@link TopicLayoutException} after those repairs: adding partitions moves keys to other partitions
 * (a compacted topic would then replay a product's stale state beside its new one), and changing
 * replicas is a reassignment for the operator, not a config.
 */
public final class TopicInitializer {

  /**
   * What one call did: topics it created, the configs it set on topics that existed, and the
   * floors it found above its own there and left (topic to config to the value kept).
   */
  public record Outcome(List<String> created, Map<String, Map<String, String>> repaired,
      Map<String, Map<String, String>> kept) {}

  /**
   * Configs whose value here is a minimum, not a setting to impose. An SRE who raised a dead-letter
   * topic's {@code retention.ms} to 30 days during an incident, to redrive later, must not have the
   * next release's topic-init set it back to 7 days and the broker delete the letters; a longer
   * tombstone retention or compaction lag only keeps records longer; more in-sync replicas (3 of 5)
   * is a stronger durability choice.
   */
  static final Set<String> FLOORS = Set.of(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, TopicConfig.RETENTION_MS_CONFIG,
      TopicConfig.DELETE_RETENTION_MS_CONFIG, TopicConfig.MIN_COMPACTION_LAG_MS_CONFIG);

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
    Map<String, Map<String, String>> repaired = new LinkedHashMap<>();
    Map<String, Map<String, String>> kept = new LinkedHashMap<>();
    repairConfigs(present, repaired, kept);
    List<TopicLayoutException.Problem> problems = layoutProblems(present);
    Outcome outcome = new Outcome(created, repaired, kept);
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

  private void repairConfigs(List<Topic> present, Map<String, Map<String, String>> repaired,
      Map<String, Map<String, String>> kept) throws ExecutionException, InterruptedException, TimeoutException {
    if (present.isEmpty()) {
      return;
    }
    List<ConfigResource> resources = present.stream()
        .map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t.name())).toList();
    var described = admin.describeConfigs(resources).all().get(30, TimeUnit.SECONDS);
    Map<ConfigResource, Collection<AlterConfigOp>> changes = new LinkedHashMap<>();
    for (Topic t : present) {
      ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, t.name());
      var current = described.get(resource);
      Map<String, String> drift = new LinkedHashMap<>();
      Map<String, String> above = new LinkedHashMap<>();
      configsOf(t).entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(wanted -> {
        ConfigEntry entry = current.get(wanted.getKey());
        if (entry != null && wanted.getValue().equals(entry.value())) {
          return;
        }
        if (entry != null && strongerAlready(wanted.getKey(), wanted.getValue(), entry)) {
          above.put(wanted.getKey(), entry.value());
        } else {
          drift.put(wanted.getKey(), wanted.getValue());
        }
      });
      if (!above.isEmpty()) {
        kept.put(t.name(), above);
      }
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
  }

  /**
   * A value of one of the {@link #FLOORS} above the project's is a choice, not drift: raised when
   * below, never lowered. {@code retention.ms=-1} is infinite retention, above any. A retention is
   * someone's choice only when set on the topic itself: a topic the broker auto-created inherits its
   * default week, which would otherwise keep service.health's two hours at seven days.
   */
  static boolean strongerAlready(String name, String wanted, ConfigEntry entry) {
    if (!FLOORS.contains(name) || entry.value() == null) {
      return false;
    }
    if (!name.equals(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG)
        && entry.source() != ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG) {
      return false;
    }
    try {
      long value = Long.parseLong(entry.value().trim());
      if (name.equals(TopicConfig.RETENTION_MS_CONFIG) && value == -1) {
        return true;
      }
      return value > Long.parseLong(wanted);
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private List<TopicLayoutException.Problem> layoutProblems(List<Topic> present) throws ExecutionException,
      InterruptedException, TimeoutException {
    List<TopicLayoutException.Problem> problems = new ArrayList<>();
    if (present.isEmpty()) {
      return problems;
    }
    Map<String, TopicDescription> descriptions = admin.describeTopics(present.stream().map(Topic::name).toList())
        .allTopicNames().get(30, TimeUnit.SECONDS);
    for (Topic t : present) {
      List<TopicPartitionInfo> parts = descriptions.get(t.name()).partitions();
      if (parts.size() < partitions) {
        problems.add(new TopicLayoutException.Problem(t, TopicLayoutException.Problem.Kind.FEWER_PARTITIONS,
            parts.size(), partitions));
      }
      parts.stream().mapToInt(p -> p.replicas().size()).filter(n -> n != replicationFactor).min()
          .ifPresent(n -> problems.add(new TopicLayoutException.Problem(t,
              TopicLayoutException.Problem.Kind.OTHER_REPLICATION_FACTOR, n, replicationFactor)));
    }
    return problems;
  }
}
