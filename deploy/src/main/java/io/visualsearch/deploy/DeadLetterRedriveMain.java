package io.visualsearch.deploy;

import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigDef;
import io.visualsearch.config.ConfigException;
import io.visualsearch.pipeline.KafkaSettings;
import io.visualsearch.runtime.ExitCode;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * {@code ./visual-search redrive <topic>.dlq [--reason=<reason>] [--dry-run]}: sends the dead
 * letters of a topic back to it ({@link DeadLetterRedrive}), printing how many of each reason were
 * sent and left. Kafka from the environment, as the services read it ({@code
 * KAFKA_BOOTSTRAP_SERVERS}, {@code KAFKA_CLIENT_PROPERTIES}). Exit codes: 0 done, 2 usage or
 * configuration error, 6 Kafka failed.
 */
public final class DeadLetterRedriveMain {

  /** How long the run may wait for Kafka to answer, or read nothing, before it gives up. */
  static final Duration STALL = Duration.ofMinutes(1);

  private DeadLetterRedriveMain() {}

  public static void main(String[] args) {
    System.exit(run(args, System.getenv()));
  }

  static int run(String[] args, Map<String, String> env) {
    String topic = null;
    String reason = null;
    boolean dryRun = false;
    for (String a : args) {
      if (a.startsWith("--reason=") && a.length() > "--reason=".length()) {
        reason = a.substring("--reason=".length());
      } else if (a.equals("--dry-run")) {
        dryRun = true;
      } else if (!a.startsWith("--") && topic == null) {
        topic = a;
      } else {
        return usage("unknown argument " + a);
      }
    }
    if (topic == null) {
      return usage("name the dead-letter topic");
    }
    Config config;
    try {
      config = new ConfigDef().define(KafkaSettings.BOOTSTRAP, KafkaSettings.EXTRA).parse(env);
    } catch (ConfigException e) {
      System.err.println("redrive: " + e.getMessage());
      return ExitCode.CONFIG_ERROR.code();
    }
    String wanted = reason;
    Predicate<String> accepts = wanted == null ? r -> true : wanted::equals;
    try (KafkaConsumer<byte[], byte[]> consumer = consumer(config, DeadLetterRedrive.groupId(topic, reason));
        KafkaProducer<byte[], byte[]> producer = producer(config)) {
      DeadLetterRedrive.Outcome o = new DeadLetterRedrive(consumer, producer, STALL).run(topic, accepts, dryRun);
      System.out.println("redrive " + topic + (reason == null ? "" : " (reason " + reason + ")")
          + (dryRun ? ", dry run: nothing sent" : "") + ":");
      String verb = dryRun ? "would send " : "sent ";
      o.redriven().forEach((r, n) -> System.out.println("  " + verb + n + " " + r));
      o.skipped().forEach((r, n) -> System.out.println("  left " + n + " " + r));
      o.superseded().forEach((r, n) -> System.out.println("  left " + n + " " + r
          + " replaced since by a later record of their key"));
      if (o.withoutOrigin() > 0) {
        System.out.println("  left " + o.withoutOrigin() + " not dead letters of " + topic.replaceAll("\\.dlq$", ""));
      }
      System.out.println("redriven=" + o.redriven().values().stream().mapToInt(Integer::intValue).sum());
      return ExitCode.OK.code();
    } catch (IllegalArgumentException e) {
      System.err.println("redrive: " + e.getMessage());
      return ExitCode.CONFIG_ERROR.code();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return ExitCode.START_FAILED.code();
    } catch (Exception e) {
      System.err.println("redrive: failed: " + e);
      return ExitCode.START_FAILED.code();
    }
  }

  private static int usage(String problem) {
    System.err.println("redrive: " + problem);
    System.err.println("usage: ./visual-search redrive <topic>.dlq [--reason=<dlq.reason>] [--dry-run]");
    return ExitCode.CONFIG_ERROR.code();
  }

  private static KafkaConsumer<byte[], byte[]> consumer(Config config, String group) {
    Properties p = KafkaSettings.common(config);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
    return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  private static KafkaProducer<byte[], byte[]> producer(Config config) {
    Properties p = KafkaSettings.common(config);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "visual-search-redrive");
    return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
  }
}
