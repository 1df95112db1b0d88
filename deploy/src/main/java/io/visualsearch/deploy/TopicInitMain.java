package io.visualsearch.deploy;

import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigException;
import io.visualsearch.pipeline.KafkaSettings;
import io.visualsearch.topics.TopicInitializer;
import io.visualsearch.topics.Topics;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * The topic-init job (Compose service, Kubernetes Job): creates every topic of {@link Topics#all()}
 * that is missing, with its cleanup policy, and exits. Existing topics are left as they are, so
 * running it again is harmless. Exit codes: 0 done, 2 configuration error, 3 Kafka failed.
 */
public final class TopicInitMain {

  private TopicInitMain() {}

  public static void main(String[] args) {
    System.exit(run(System.getenv()));
  }

  static int run(Map<String, String> env) {
    Config config;
    try {
      config = TopicInitSettings.definition().parse(env);
    } catch (ConfigException e) {
      System.err.println("topic-init: " + e.getMessage());
      return 2;
    }
    Properties props = KafkaSettings.common(config);
    props.putIfAbsent(AdminClientConfig.CLIENT_ID_CONFIG, "visual-search-topic-init");
    props.putIfAbsent(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "60000");
    try (Admin admin = Admin.create(props)) {
      List<String> created = new TopicInitializer(admin, config.get(TopicInitSettings.PARTITIONS),
          config.get(TopicInitSettings.REPLICATION_FACTOR).shortValue()).ensure(Topics.all());
      System.out.println("topic-init: created " + created.size() + " of " + Topics.all().size() + " topics "
          + created);
      return 0;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 3;
    } catch (Exception e) {
      System.err.println("topic-init: failed: " + e);
      return 3;
    }
  }
}
