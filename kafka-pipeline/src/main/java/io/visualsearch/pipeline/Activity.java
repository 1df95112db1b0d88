package io.visualsearch.pipeline;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What one service instance has been doing: the numbers behind /metrics and the heartbeat the
 * health page shows (activity, errors, dead-lettered, last activity, consumer lag).
 */
public final class Activity {

  private final AtomicLong handled = new AtomicLong();
  private final AtomicLong errors = new AtomicLong();
  private final AtomicLong deadLettered = new AtomicLong();
  private final AtomicLong lastActivityMs = new AtomicLong();
  private final AtomicLong lag = new AtomicLong(-1);

  private final Counter handledTotal;
  private final Counter failedTotal;
  private final Counter dlqTotal;
  private final Counter retriesTotal;
  private final Histogram latency;
  private final Histogram batchSize;
  private final Gauge lagGauge;

  public Activity(PrometheusRegistry registry) {
    handledTotal = Counter.builder().name("pipeline_records_handled_total")
        .help("Records handled successfully").labelNames("topic").register(registry);
    failedTotal = Counter.builder().name("pipeline_records_failed_total")
        .help("Records whose handling failed (retried or dead-lettered)").labelNames("topic", "kind").register(registry);
    dlqTotal = Counter.builder().name("pipeline_dlq_records_total")
        .help("Records sent to a dead-letter topic").labelNames("topic", "reason").register(registry);
    retriesTotal = Counter.builder().name("pipeline_retries_total")
        .help("Pauses after a retriable failure").labelNames("topic").register(registry);
    latency = Histogram.builder().name("pipeline_record_duration_seconds")
        .help("Time to handle one record").labelNames("topic").register(registry);
    batchSize = Histogram.builder().name("pipeline_poll_batch_records")
        .help("Records returned per poll").classicUpperBounds(1, 5, 10, 25, 50, 100, 250, 500).register(registry);
    lagGauge = Gauge.builder().name("pipeline_consumer_lag_records")
        .help("Records behind the end of the consumed topics").register(registry);
  }

  void handled(String topic, double seconds) {
    handled.incrementAndGet();
    lastActivityMs.set(System.currentTimeMillis());
    handledTotal.labelValues(topic).inc();
    latency.labelValues(topic).observe(seconds);
  }

  void retried(String topic) {
    errors.incrementAndGet();
    failedTotal.labelValues(topic, "retriable").inc();
    retriesTotal.labelValues(topic).inc();
  }

  void deadLettered(String topic, String reason) {
    errors.incrementAndGet();
    deadLettered.incrementAndGet();
    lastActivityMs.set(System.currentTimeMillis());
    failedTotal.labelValues(topic, "poison").inc();
    dlqTotal.labelValues(topic, reason).inc();
  }

  void polled(int records) {
    if (records > 0) {
      batchSize.observe(records);
    }
  }

  void lag(long records) {
    lag.set(records);
    lagGauge.set(records);
  }

  /** Work done outside a consumer loop (a feed download, a query) counts as activity too. */
  public void recordActivity() {
    handled.incrementAndGet();
    lastActivityMs.set(System.currentTimeMillis());
  }

  public void recordError() {
    errors.incrementAndGet();
  }

  public long handled() {
    return handled.get();
  }

  public long errors() {
    return errors.get();
  }

  public long deadLettered() {
    return deadLettered.get();
  }

  public long lastActivityMs() {
    return lastActivityMs.get();
  }

  public long lag() {
    return lag.get();
  }
}
