package io.visualsearch.deploy;

import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigException;
import io.visualsearch.pipeline.KafkaSettings;
import io.visualsearch.runtime.ExitCode;
import io.visualsearch.topics.TopicInitializer;
import io.visualsearch.topics.TopicLayoutException;
import io.visualsearch.topics.Topics;
import java.io.PrintStream;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * The topic-init job (Compose service, Kubernetes Job): creates every topic of {@link Topics#all()}
 * that is missing, with its configs and {@code min.insync.replicas}, and sets those configs back on
 * topics that exist with others (a broker that auto-created one from a client's request gave it
 * its defaults), so running it again is harmless. An existing topic with fewer partitions than
 * {@code TOPICS_PARTITIONS} or another replication factor than {@code TOPICS_REPLICATION_FACTOR}
 * cannot be repaired by a config change: it is refused, naming each with what to do about it
 * ({@link LayoutAdvice}: never recreating a compacted one). Configs that are floors (retention,
 * {@code min.insync.replicas}) are only raised: a higher value an operator set is kept, and printed.
 * Exit codes: 0 done, 2 configuration error, 6 Kafka failed (as a service that cannot start: 3 is the
 * JVM's own exit on an OutOfMemoryError in the images), 4 topics laid out otherwise (their configs
 * repaired).
 */
public final class TopicInitMain {

  private TopicInitMain() {}

  public static void main(String[] args) {
    System.exit(run(System.getenv(), System.out, System.err));
  }

  static int run(Map<String, String> env, PrintStream out, PrintStream err) {
    Config config;
    try {
      config = TopicInitSettings.definition().parse(env);
    } catch (ConfigException e) {
      err.println("topic-init: " + e.getMessage());
      return 2;
    }
    Properties props = KafkaSettings.common(config);
    props.putIfAbsent(AdminClientConfig.CLIENT_ID_CONFIG, "visual-search-topic-init");
    props.putIfAbsent(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "60000");
    try (Admin admin = Admin.create(props)) {
      report(new TopicInitializer(admin, config.get(TopicInitSettings.PARTITIONS),
          config.get(TopicInitSettings.REPLICATION_FACTOR).shortValue()).apply(Topics.all()), out);
      return 0;
    } catch (TopicLayoutException e) {
      report(e.outcome(), out);
      for (String line : LayoutAdvice.lines(e.problems())) {
        err.println("topic-init: " + line);
      }
      return 4;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return ExitCode.START_FAILED.code();
    } catch (Exception e) {
      err.println("topic-init: failed: " + e);
      return ExitCode.START_FAILED.code();
    }
  }

  private static void report(TopicInitializer.Outcome outcome, PrintStream out) {
    out.println("topic-init: created " + outcome.created().size() + " of " + Topics.all().size()
        + " topics " + outcome.created());
    outcome.repaired().forEach((topic, configs) ->
        out.println("topic-init: set " + configs + " on existing topic " + topic));
    outcome.kept().forEach((topic, configs) ->
        out.println("topic-init: kept " + configs + " on existing topic " + topic
            + ": above topic-init's own, a floor it raises values to and never lowers them from"));
  }
}
