package io.visualsearch.deploy;

import io.visualsearch.config.ConfigDef;
import io.visualsearch.config.ConfigException;
import io.visualsearch.pipeline.KafkaClients;
import io.visualsearch.pipeline.KafkaSettings;
import io.visualsearch.runtime.ExitCode;
import java.time.Duration;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;

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
  static final String CLIENT_ID = "visual-search-redrive";
  /** Dead letters read a poll: they are held until the run's end anyway. */
  static final int POLL_RECORDS = 500;

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
    KafkaClients clients;
    try {
      // The services' own clients: acknowledged, idempotent writes, and operator properties that
      // would weaken them refused here as there.
      clients = new KafkaClients(new ConfigDef().define(KafkaSettings.BOOTSTRAP, KafkaSettings.EXTRA).parse(env));
    } catch (ConfigException e) {
      System.err.println("redrive: " + e.getMessage());
      return ExitCode.CONFIG_ERROR.code();
    }
    String wanted = reason;
    Predicate<String> accepts = wanted == null ? r -> true : wanted::equals;
    try (Consumer<byte[], byte[]> consumer = clients.consumer(DeadLetterRedrive.groupId(topic, reason),
            CLIENT_ID, POLL_RECORDS);
        Producer<byte[], byte[]> producer = clients.producer(CLIENT_ID)) {
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
}
