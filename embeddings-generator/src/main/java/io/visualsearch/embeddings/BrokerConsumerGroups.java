package io.visualsearch.embeddings;

import io.visualsearch.config.Config;
import io.visualsearch.pipeline.KafkaSettings;
import io.visualsearch.topics.Topics;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumer group ids on the broker, for a deployment that has no followed-version record yet:
 * its groups of earlier versions tell whether the version served now is a step back. And, during a
 * rollout, how far the groups of images.ready have come (ModelVersionFollower.GroupProgress).
 */
final class BrokerConsumerGroups implements Supplier<Collection<String>>, ModelVersionFollower.GroupProgress {

  private static final Logger log = LoggerFactory.getLogger(BrokerConsumerGroups.class);
  private static final String TOPIC = Topics.IMAGES_READY.name();

  private final Config config;
  /** Opened at the first rollout, kept for its polls (one every EMBEDDINGS_MODEL_POLL_INTERVAL). */
  private Admin progressAdmin;

  BrokerConsumerGroups(Config config) {
    this.config = config;
  }

  @Override
  public Collection<String> get() {
    try (Admin admin = Admin.create(KafkaSettings.common(config))) {
      return admin.listGroups().all().get(30, TimeUnit.SECONDS).stream().map(GroupListing::groupId).toList();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof AuthorizationException denied) {
        // A principal allowed to consume but not to list groups: no history to go by, which is what
        // a new deployment has too.
        log.warn("cannot list consumer groups ({}): a rollback before this deployment kept its record will not be"
            + " detected", denied.getMessage());
        return List.of();
      }
      throw new IllegalStateException("cannot list consumer groups: " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new IllegalStateException("cannot list consumer groups: no answer in 30 s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while listing consumer groups", e);
    }
  }

  @Override
  public synchronized Map<Integer, Long> endOffsets() {
    Admin admin = admin();
    List<TopicPartitionInfo> partitions = answer("describe " + TOPIC,
        () -> admin.describeTopics(List.of(TOPIC)).allTopicNames().get(30, TimeUnit.SECONDS).get(TOPIC).partitions());
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    partitions.forEach(p -> latest.put(new TopicPartition(TOPIC, p.partition()), OffsetSpec.latest()));
    Map<Integer, Long> ends = new HashMap<>();
    answer("list the end offsets of " + TOPIC, () -> admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS))
        .forEach((tp, info) -> ends.put(tp.partition(), info.offset()));
    return ends;
  }

  @Override
  public synchronized Map<Integer, Long> committed(String group) {
    Admin admin = admin();
    Map<TopicPartition, OffsetAndMetadata> offsets = answer("list the offsets of group " + group,
        () -> admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS));
    Map<Integer, Long> committed = new HashMap<>();
    offsets.forEach((tp, o) -> {
      if (tp.topic().equals(TOPIC) && o != null) {
        committed.put(tp.partition(), o.offset());
      }
    });
    return committed;
  }

  @Override
  public synchronized boolean hasMembers(String group) {
    Admin admin = admin();
    return answer("describe group " + group, () -> {
      try {
        return !admin.describeConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group).members()
            .isEmpty();
      } catch (ExecutionException e) {
        // A group whose offsets expired is gone: no member either.
        if (e.getCause() instanceof GroupIdNotFoundException) {
          return false;
        }
        throw e;
      }
    });
  }

  @Override
  public synchronized void close() {
    if (progressAdmin != null) {
      progressAdmin.close();
      progressAdmin = null;
    }
  }

  private Admin admin() {
    if (progressAdmin == null) {
      progressAdmin = Admin.create(KafkaSettings.common(config));
    }
    return progressAdmin;
  }

  private static <T> T answer(String what, Callable<T> call) {
    try {
      return call.call();
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot " + what + ": " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new IllegalStateException("cannot " + what + ": no answer in 30 s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted: " + what, e);
    } catch (Exception e) {
      throw new IllegalStateException("cannot " + what + ": " + e, e);
    }
  }
}
