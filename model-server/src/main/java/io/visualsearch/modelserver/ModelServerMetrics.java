package io.visualsearch.modelserver;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.OptionalLong;

/**
 * The model server's Prometheus metrics. Requests are counted where they enter (gRPC interceptor,
 * REST handler) by api, method and status code; batching is measured where it happens (the
 * batcher reports every TensorFlow run); queue depth, batch totals and version states are read
 * from their owners at scrape time, so they can never drift from what the server reports elsewhere.
 */
final class ModelServerMetrics implements DynamicBatcher.Observer {

  private final PrometheusRegistry registry;
  private final Counter requests;
  private final Histogram requestSeconds;
  private final Histogram batchRows;
  private final Histogram batchRequests;
  private final Histogram queueWaitSeconds;
  private final Histogram runSeconds;

  ModelServerMetrics(PrometheusRegistry registry) {
    this.registry = registry;
    requests = Counter.builder().name("model_server_requests_total")
        .help("Requests answered, by front end (grpc, rest), method and status code (gRPC code name or HTTP status)")
        .labelNames("api", "method", "code").register(registry);
    requestSeconds = Histogram.builder().name("model_server_request_duration_seconds")
        .help("Time from request arrival to reply, queueing and batching included")
        .classicUpperBounds(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10)
        .labelNames("api", "method").register(registry);
    batchRows = Histogram.builder().name("model_server_batch_size_rows")
        .help("Rows (images) per TensorFlow run")
        .classicOnly().classicUpperBounds(1, 2, 4, 8, 16, 32, 64, 128, 256)
        .labelNames("signature").register(registry);
    batchRequests = Histogram.builder().name("model_server_batch_size_requests")
        .help("Requests merged into one TensorFlow run")
        .classicOnly().classicUpperBounds(1, 2, 4, 8, 16, 32, 64, 128, 256)
        .labelNames("signature").register(registry);
    queueWaitSeconds = Histogram.builder().name("model_server_batch_queue_wait_seconds")
        .help("Time a request waited in the batch queue before its TensorFlow run started")
        .classicUpperBounds(.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5)
        .register(registry);
    runSeconds = Histogram.builder().name("model_server_tensorflow_run_duration_seconds")
        .help("Duration of one TensorFlow run (one batch)")
        .classicUpperBounds(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10)
        .labelNames("signature", "outcome").register(registry);
  }

  /** Registers the metrics read from the batcher and the model manager at scrape time. */
  void watch(DynamicBatcher batcher, ModelManager models) {
    GaugeWithCallback.builder().name("model_server_queue_depth")
        .help("Requests waiting for a batch right now")
        .callback(cb -> cb.call(batcher.queued())).register(registry);
    CounterWithCallback.builder().name("model_server_batch_runs_total")
        .help("TensorFlow runs executed by the batcher")
        .callback(cb -> cb.call(batcher.stats().runs())).register(registry);
    CounterWithCallback.builder().name("model_server_batched_requests_total")
        .help("Requests served by those runs")
        .callback(cb -> cb.call(batcher.stats().requests())).register(registry);
    CounterWithCallback.builder().name("model_server_batched_rows_total")
        .help("Rows served by those runs")
        .callback(cb -> cb.call(batcher.stats().rows())).register(registry);
    CounterWithCallback.builder().name("model_server_rejected_requests_total")
        .help("Requests refused with UNAVAILABLE because the batch queue was full")
        .callback(cb -> cb.call(batcher.stats().rejected())).register(registry);
    CounterWithCallback.builder().name("model_server_abandoned_requests_total")
        .help("Queued requests dropped unrun because their caller had gone (deadline passed, call cancelled)")
        .callback(cb -> cb.call(batcher.stats().abandoned())).register(registry);
    GaugeWithCallback.builder().name("model_server_version_state")
        .help("1 for the current state of each model version the server knows (LOADING, AVAILABLE, UNLOADING, END)")
        .labelNames("model", "version", "state")
        .callback(cb -> {
          for (VersionStatusBook.Entry e : models.statuses()) {
            cb.call(1, models.modelName(), Long.toString(e.version()), e.state().name());
          }
        }).register(registry);
    GaugeWithCallback.builder().name("model_server_version_load_failed")
        .help("1 for each known version whose last load failed")
        .labelNames("model", "version")
        .callback(cb -> {
          for (VersionStatusBook.Entry e : models.statuses()) {
            if (!e.error().isEmpty()) {
              cb.call(1, models.modelName(), Long.toString(e.version()));
            }
          }
        }).register(registry);
    GaugeWithCallback.builder().name("model_server_serving_version")
        .help("Version answering requests that do not name one; absent while none is loaded")
        .labelNames("model")
        .callback(cb -> {
          OptionalLong v = models.currentVersion();
          if (v.isPresent()) {
            cb.call(v.getAsLong(), models.modelName());
          }
        }).register(registry);
  }

  /** Registers the REST body budget's use, read at scrape time. */
  void watch(BodyBudget budget) {
    GaugeWithCallback.builder().name("model_server_rest_body_budget_used_bytes")
        .help("Estimated heap held by REST request bodies being read and decoded (MODEL_SERVER_REST_BODY_BUDGET_BYTES"
            + " bounds it; beyond it REST answers 503)")
        .callback(cb -> cb.call(budget.used())).register(registry);
  }

  /** Registers the gRPC message budget's use, read at scrape time. */
  void watchGrpc(BodyBudget budget) {
    GaugeWithCallback.builder().name("model_server_grpc_message_budget_used_bytes")
        .help("Estimated heap held by gRPC requests being received and decoded (MODEL_SERVER_GRPC_MESSAGE_BUDGET_BYTES"
            + " bounds it; beyond it a message is cut off with UNAVAILABLE)")
        .callback(cb -> cb.call(budget.used())).register(registry);
  }

  private volatile ModelServer.CallObserver observer = (api, method, code, modelFault) -> { };

  void observe(ModelServer.CallObserver o) {
    observer = o;
  }

  /** One answered call; {@code modelFault}: the model's own run failed it (told to the observer only). */
  void request(String api, String method, String code, boolean modelFault, long nanos) {
    observer.answered(api, method, code, modelFault);
    requests.labelValues(api, method, code).inc();
    requestSeconds.labelValues(api, method).observe(nanos / 1e9);
  }

  @Override
  public void waited(long queueNanos) {
    queueWaitSeconds.observe(queueNanos / 1e9);
  }

  @Override
  public void ran(String signature, int requestCount, long rows, long runNanos, boolean ok) {
    runSeconds.labelValues(signature, ok ? "ok" : "error").observe(runNanos / 1e9);
    if (ok) {
      batchRows.labelValues(signature).observe(rows);
      batchRequests.labelValues(signature).observe(requestCount);
    }
  }
}
