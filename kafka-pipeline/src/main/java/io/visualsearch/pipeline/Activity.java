package io.visualsearch.pipeline;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import io.visualsearch.topics.Topics;
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
  /** Per consumer loop (response-consumer runs two): the heartbeat carries their sum. */
  private final Map<Object, Long> lags = new ConcurrentHashMap<>();

  private final Counter handledTotal;
  private final Counter failedTotal;
  private final Counter dlqTotal;
  private final Counter retriesTotal;
  private final Histogram latency;
  private final Histogram batchSize;
  private final Gauge lagGauge;
  // The heartbeat's own numbers, so /metrics and the health page agree; they also count work done
  // outside a consumer loop (queries, feed downloads), which the per-topic series above do not.
  private final Counter activityTotal;
  private final Counter errorsTotal;
  private final Gauge lastActivitySeconds;

  public Activity(PrometheusRegistry registry) {
    handledTotal = Counter.builder().name("pipeline_records_handled_total")
        .help("Records handled successfully").labelNames("topic").register(registry);
    failedTotal = Counter.builder().name("pipeline_records_failed_total")
        .help("Records whose handling failed (retried or dead-lettered)").labelNames("topic", "kind").register(registry);
    dlqTotal = Counter.builder().name("pipeline_dlq_records_total")
        .help("Records sent to a dead-letter topic, by the tenant they belong to (empty when unknown)")
        .labelNames("topic", "reason", "tenant").register(registry);
    retriesTotal = Counter.builder().name("pipeline_retries_total")
        .help("Pauses after a retriable failure").labelNames("topic").register(registry);
    // Out to an hour: response-consumer handles each index publication as one record, a
    // similar-items job of minutes, which the default buckets (up to 10 s) put all in +Inf.
    latency = Histogram.builder().name("pipeline_record_duration_seconds")
        .help("Time to handle one record").labelNames("topic")
        .classicUpperBounds(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600)
        .register(registry);
    batchSize = Histogram.builder().name("pipeline_poll_batch_records")
        .help("Records returned per poll").classicUpperBounds(1, 5, 10, 25, 50, 100, 250, 500).register(registry);
    lagGauge = Gauge.builder().name("pipeline_consumer_lag_records")
        .help("Records behind the end of the consumed topics").register(registry);
    activityTotal = Counter.builder().name("pipeline_activity_total")
        .help("Units of work done: records handled, plus work outside a consumer loop (the heartbeat's activity)")
        .register(registry);
    errorsTotal = Counter.builder().name("pipeline_errors_total")
        .help("Failures: retriable, poison (dead-lettered), send (a produced record not acknowledged) or other"
            + " (outside a consumer loop)")
        .labelNames("kind").register(registry);
    // Exposed at zero from the start so rate() and alerts see a series before the first failure.
    errorsTotal.initLabelValues("retriable");
    errorsTotal.initLabelValues("poison");
    errorsTotal.initLabelValues("send");
    errorsTotal.initLabelValues("other");
    lastActivitySeconds = Gauge.builder().name("pipeline_last_activity_timestamp_seconds")
        .help("Unix time of the last unit of work; 0 before any").register(registry);
  }

  void handled(String topic, double seconds) {
    handled.incrementAndGet();
    touched();
    handledTotal.labelValues(topic).inc();
    latency.labelValues(topic).observe(seconds);
  }

  void retried(String topic) {
    errors.incrementAndGet();
    errorsTotal.labelValues("retriable").inc();
    failedTotal.labelValues(topic, "retriable").inc();
  }

  /**
   * The loop paused for a retry after a failure at {@code topic}: once a pause, however many records
   * of the batch failed (counted per record, it only repeated pipeline_records_failed_total).
   */
  void pausedForRetry(String topic) {
    retriesTotal.labelValues(topic).inc();
  }

  /**
   * A record sent to {@code topic}'s dead-letter topic for {@code reason}: by the consumer loop, or
   * by work outside one (a feed row catalog-downloader rejects), of {@code tenant} (a valid tenant
   * name, else counted as unknown: a malformed key must not mint a series per record). Per tenant:
   * "one retailer's images all fail" could not be told from "every retailer's some do".
   */
  public void deadLettered(String topic, String reason, String tenant) {
    errors.incrementAndGet();
    deadLettered.incrementAndGet();
    errorsTotal.labelValues("poison").inc();
    lastActivityMs.set(System.currentTimeMillis());
    lastActivitySeconds.set(lastActivityMs.get() / 1000.0);
    failedTotal.labelValues(topic, "poison").inc();
    dlqTotal.labelValues(topic, reason, Topics.isTenant(tenant) ? tenant : "").inc();
  }

  /** A batch whose produced records the broker did not acknowledge: handled again, nothing committed. */
  void unacknowledged() {
    errors.incrementAndGet();
    errorsTotal.labelValues("send").inc();
  }

  void polled(int records) {
    if (records > 0) {
      batchSize.observe(records);
    }
  }

  /**
   * Under this object's lock, the change and the gauge's new sum together: two loops reporting at
   * once (response-consumer's, a rollout's two generator loops) could otherwise set the gauge to
   * a sum taken before the other's change, last.
   */
  synchronized void lag(Object loop, long records) {
    lags.put(loop, records);
    lagGauge.set(lag());
  }

  synchronized void forgetLag(Object loop) {
    lags.remove(loop);
    lagGauge.set(Math.max(0, lag()));
  }

  /** Work done outside a consumer loop (a feed download, a query) counts as activity too. */
  public void recordActivity() {
    handled.incrementAndGet();
    touched();
  }

  public void recordError() {
    errors.incrementAndGet();
    errorsTotal.labelValues("other").inc();
  }

  private void touched() {
    long now = System.currentTimeMillis();
    lastActivityMs.set(now);
    activityTotal.inc();
    lastActivitySeconds.set(now / 1000.0);
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

  /** Records behind the end of every consumed topic, all loops together; -1 before any loop reported. */
  public long lag() {
    return lags.isEmpty() ? -1 : lags.values().stream().mapToLong(Long::longValue).sum();
  }
}
