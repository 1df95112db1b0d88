package io.visualsearch.topics;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Creates missing topics with their configuration; existing topics are left as they are. Several
 * services may start at once and race to create the same topics: a topic someone else created
 * in the meantime is not an error, and is not reported as created here.
 */
public final class TopicInitializer {

  private final Admin admin;
  private final int partitions;
  private final short replicationFactor;

  public TopicInitializer(Admin admin, int partitions, short replicationFactor) {
    this.admin = admin;
    this.partitions = partitions;
    this.replicationFactor = replicationFactor;
  }

  /** Returns the names this call created. */
  public List<String> ensure(List<Topic> topics) throws ExecutionException, InterruptedException, TimeoutException {
    Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
    List<NewTopic> missing = new ArrayList<>();
    for (Topic t : topics) {
      if (!existing.contains(t.name())) {
        missing.add(new NewTopic(t.name(), partitions, replicationFactor).configs(t.configs()));
      }
    }
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
}
