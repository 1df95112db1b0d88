package io.visualsearch.modelserver;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigDef;
import io.visualsearch.config.Setting;
import io.visualsearch.pipeline.Activity;
import io.visualsearch.pipeline.HeartbeatPublisher;
import io.visualsearch.pipeline.KafkaClients;
import io.visualsearch.pipeline.KafkaSettings;
import io.visualsearch.pipeline.ProducerComponent;
import io.visualsearch.runtime.ReadinessReport;
import io.visualsearch.runtime.ServiceHost;
import java.util.Set;

/**
 * The model server's row on the indexers' health page. Kafka is optional here — a model server
 * (ours or TensorFlow Serving) needs none to serve — so the heartbeat runs only when a bootstrap
 * address is given. Activity is answered Predict calls; errors are the server's own failures: the
 * codes only it causes, and any call the model's own TensorFlow run failed, whatever its code.
 */
final class ModelServerHeartbeat {

  static final Setting<String> BOOTSTRAP = Setting.string("KAFKA_BOOTSTRAP_SERVERS").optional()
      .doc("When set, the model server publishes its heartbeat to service.health on this Kafka, so the health"
          + " page lists it; unset, it runs without Kafka.");

  /**
   * Status codes that are the server's fault, not the caller's, under gRPC's names and REST's
   * numbers alike: shedding load or having no version loaded (UNAVAILABLE, 503) and TensorFlow out
   * of memory (RESOURCE_EXHAUSTED, 429) fail every client's request, and the generator and
   * search-api reach this server over gRPC. A Predict answered UNIMPLEMENTED, PERMISSION_DENIED or
   * UNAUTHENTICATED carries a TensorFlow run's own code (a kernel missing, a file the graph cannot
   * read): this server checks no credentials, so none of them is the caller's doing. A code a caller
   * may cause too (FAILED_PRECONDITION: an unknown signature, or a table the model could not
   * initialise) is an error only when the call was a model fault (see {@link #count}).
   */
  private static final Set<String> SERVER_FAULTS = Set.of("INTERNAL", "UNKNOWN", "DATA_LOSS", "UNAVAILABLE",
      "RESOURCE_EXHAUSTED", "UNIMPLEMENTED", "PERMISSION_DENIED", "UNAUTHENTICATED", "500", "503", "429", "501",
      "403", "401");

  /**
   * The caller went before an answer (its deadline passed, it cancelled, or the request was dropped
   * from the queue unrun for that reason): no answer was given, so neither activity nor, as the
   * caller's own choice, an error. Counted as activity, an overloaded server whose queue expires
   * showed busy and healthy while it answered nothing.
   */
  private static final Set<String> ABANDONED = Set.of("CANCELLED", "DEADLINE_EXCEEDED", "499");

  private ModelServerHeartbeat() {}

  static boolean isServerFault(String code) {
    return SERVER_FAULTS.contains(code);
  }

  /**
   * Books one Predict call with {@code code} (a gRPC status name or an HTTP status number).
   * {@code modelFault}: the model's run failed it, an error whatever TensorFlow's code; by the code
   * alone, a model whose every run fails FAILED_PRECONDITION showed busy and healthy.
   */
  static void count(Activity activity, String code, boolean modelFault) {
    if (modelFault || isServerFault(code)) {
      activity.recordError();
    } else if (!ABANDONED.contains(code)) {
      activity.recordActivity();
    }
  }

  /** Books every Predict call {@code server} answers, over gRPC and REST, on {@code activity}. */
  static void countPredicts(ModelServer server, Activity activity) {
    server.observeCalls((api, method, code, modelFault) -> {
      if (method.toLowerCase(java.util.Locale.ROOT).contains("predict")) {
        count(activity, code, modelFault);
      }
    });
  }

  static ConfigDef definition() {
    return new ConfigDef().define(BOOTSTRAP, KafkaSettings.EXTRA, KafkaSettings.HEARTBEAT_INTERVAL);
  }

  /** Adds the producer and the heartbeat to {@code host} when Kafka is configured; call last. */
  static void wireIfConfigured(Config config, ServiceHost host, ModelServer server, String instance) {
    String bootstrap = config.get(BOOTSTRAP);
    if (bootstrap == null || bootstrap.isBlank()) {
      return;
    }
    // The pipeline's clients, as every service's: the same producer defaults, and the same refusal
    // of KAFKA_CLIENT_PROPERTIES that would weaken them (exit 2, not a heartbeat sent with acks=1).
    KafkaClients clients = new KafkaClients(config.with(KafkaSettings.BOOTSTRAP, bootstrap));
    String clientId = ModelServerService.NAME + "-" + instance + "-heartbeat";
    ProducerComponent producer = host.add(new ProducerComponent(() -> clients.producer(clientId)));
    // Its own registry: the model server's /metrics already counts calls under its own names.
    Activity activity = new Activity(new PrometheusRegistry());
    countPredicts(server, activity);
    host.add(new HeartbeatPublisher(ModelServerService.NAME, instance, activity, producer::producer,
        config.get(KafkaSettings.HEARTBEAT_INTERVAL), () -> ReadinessReport.of(host.components()),
        host::failed));
  }
}
