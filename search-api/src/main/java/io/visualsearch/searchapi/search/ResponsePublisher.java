package io.visualsearch.searchapi.search;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.pipeline.DeliveryState;
import io.visualsearch.pipeline.PipelineHeaders;
import io.visualsearch.proto.events.SearchHit;
import io.visualsearch.proto.events.SearchResponseEvent;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import io.visualsearch.topics.Topics;
import io.visualsearch.tracing.KafkaHeadersCarrier;
import io.visualsearch.tracing.Tracing;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes every answered query to {@code search.responses}, keyed {@code tenant/request-id}, with
 * the query's trace context in the record headers. Keyed by tenant alone, all of a retailer's
 * answers went to one partition and, one key, were archived one object at a time: fewer answers a
 * second than a busy storefront asks. Sending is asynchronous: the shopper does not wait for the
 * broker; a send that finally fails is logged and counted, never turned into a failed query.
 */
public final class ResponsePublisher implements Component {

  private static final Duration METADATA_WAIT = Duration.ofSeconds(30);

  private static final Logger log = LoggerFactory.getLogger(ResponsePublisher.class);

  private final Supplier<Producer<byte[], byte[]>> producer;
  private final Tracing tracing;
  private final Counter published;
  private final DeliveryState delivery = new DeliveryState(log, "search responses are not published to "
      + Topics.SEARCH_RESPONSES.name() + ", so answers are not archived until this clears",
      "search responses are published to " + Topics.SEARCH_RESPONSES.name() + " again");

  public ResponsePublisher(Supplier<Producer<byte[], byte[]>> producer, Tracing tracing, PrometheusRegistry registry) {
    this.producer = producer;
    this.tracing = tracing;
    this.published = Counter.builder().name("search_responses_published_total")
        .help("search.responses records sent, by outcome").labelNames("outcome").register(registry);
  }

  @Override
  public String name() {
    return "search-responses-publisher";
  }

  /**
   * Fetches the topic's metadata before traffic: a send waits for it at most the producer's short
   * {@code max.block.ms}, and the first answers after a start would otherwise go unarchived when
   * the broker takes longer than that to answer a new client.
   */
  @Override
  public void start() {
    long deadline = System.nanoTime() + METADATA_WAIT.toNanos();
    while (true) {
      try {
        producer.get().partitionsFor(Topics.SEARCH_RESPONSES.name());
        return;
      } catch (TimeoutException e) {
        if (System.nanoTime() > deadline) {
          // Not fatal: searches are answered either way, and sends fetch the metadata themselves.
          log.warn("no metadata for {} after {}: the first answers may not be archived",
              Topics.SEARCH_RESPONSES.name(), METADATA_WAIT);
          return;
        }
      } catch (KafkaException e) {
        log.warn("no metadata for {}: the first answers may not be archived: {}", Topics.SEARCH_RESPONSES.name(),
            e.getMessage());
        return;
      }
    }
  }

  /**
   * Reported, never gating readiness: searches are answered either way, but an SRE must see that
   * their answers are not being archived (a broker refusing writes to the topic, an ACL on it).
   */
  @Override
  public CheckResult check() {
    String failure = delivery.lastFailure();
    return failure == null ? CheckResult.OK : new CheckResult(true, "answers not published to "
        + Topics.SEARCH_RESPONSES.name() + ": " + failure);
  }

  @Override
  public void close() {
    // The producer is the pipeline's and is flushed and closed with it.
  }

  /** The record key: the tenant's answers spread over the partitions, each archived on its own. */
  static byte[] key(String tenant, String requestId) {
    return (tenant + "/" + requestId).getBytes(StandardCharsets.UTF_8);
  }

  public void publish(String tenant, String requestId, SearchQuery query, SearchAnswer answer, long latencyMicros) {
    Tracer tracer = tracing.tracer();
    Span span = tracer.spanBuilder("publish search.responses").setAttribute("messaging.system", "kafka")
        .setAttribute("messaging.destination.name", Topics.SEARCH_RESPONSES.name()).startSpan();
    try (Scope ignored = span.makeCurrent()) {
      SearchResponseEvent.Builder event = SearchResponseEvent.newBuilder()
          .setRequestId(requestId)
          .setTenant(tenant)
          .setTimestampMs(System.currentTimeMillis())
          .setIndexVersion(answer.indexVersion())
          .setModelVersion(answer.modelVersion())
          .setTraceId(span.getSpanContext().getTraceId())
          .setK(query.k())
          .putAllFilters(query.filters().describe())
          .setLatencyMicros(latencyMicros);
      if (query.crop() != null) {
        event.putFilters("crop", query.crop().toString());
      }
      for (io.visualsearch.searchapi.search.SearchHit h : answer.hits()) {
        event.addHits(SearchHit.newBuilder().setSku(h.sku()).setScore(h.score()));
      }
      RecordHeaders headers = new RecordHeaders();
      headers.add(PipelineHeaders.TENANT, tenant.getBytes(StandardCharsets.UTF_8));
      tracing.propagator().inject(Context.current(), headers, KafkaHeadersCarrier.SETTER);
      producer.get().send(new ProducerRecord<>(Topics.SEARCH_RESPONSES.name(), null,
          key(tenant, requestId), event.build().toByteArray(), headers), (meta, error) -> {
            if (error != null) {
              published.labelValues("failed").inc();
              span.setStatus(StatusCode.ERROR, error.getMessage());
              delivery.failed(error);
            } else {
              published.labelValues("ok").inc();
              delivery.delivered();
            }
            span.end();
          });
    } catch (RuntimeException e) {
      published.labelValues("failed").inc();
      span.setStatus(StatusCode.ERROR, String.valueOf(e.getMessage()));
      span.end();
      delivery.failed(e);
    }
  }
}
