package io.visualsearch.topics;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;

/** Creates missing topics with their configuration; existing topics are left as they are. */
public final class TopicInitializer {

  private final Admin admin;
  private final int partitions;
  private final short replicationFactor;

  public TopicInitializer(Admin admin, int partitions, short replicationFactor) {
    this.admin = admin;
    this.partitions = partitions;
    this.replicationFactor = replicationFactor;
  }

  /** Returns the names it created. */
  public List<String> ensure(List<Topic> topics) throws ExecutionException, InterruptedException, TimeoutException {
    Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
    List<NewTopic> missing = new ArrayList<>();
    for (Topic t : topics) {
      if (!existing.contains(t.name())) {
        missing.add(new NewTopic(t.name(), partitions, replicationFactor).configs(t.configs()));
      }
    }
    if (!missing.isEmpty()) {
      try {
        admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) {
          throw e;
        }
      }
    }
    return missing.stream().map(NewTopic::name).toList();
  }
}
