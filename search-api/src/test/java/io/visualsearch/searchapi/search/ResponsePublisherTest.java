package io.visualsearch.searchapi.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.tracing.Tracing;
import java.util.List;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

class ResponsePublisherTest {

  /**
   * A broker refusing writes to search.responses: every answer logged a warning of its own, and
   * nothing but a counter showed that no answer was being archived.
   */
  @Test
  void answersTheBrokerRefusesShowInTheCheckUntilOneIsPublishedAgain() {
    MockProducer<byte[], byte[]> producer = new MockProducer<>(false, null, new ByteArraySerializer(),
        new ByteArraySerializer());
    try (Tracing tracing = Tracing.withExporter("search-api", SpanExporter.composite())) {
      ResponsePublisher publisher = new ResponsePublisher(() -> producer, tracing, new PrometheusRegistry());
      SearchQuery query = new SearchQuery(new byte[] {1}, 5, null, Filters.NONE);
      SearchAnswer answer = new SearchAnswer(List.of(), "v1", 1, 0);
      publisher.publish("acme", "r-1", query, answer, 1000);
      publisher.publish("acme", "r-2", query, answer, 1000);
      producer.errorNext(new TopicAuthorizationException("search.responses"));
      producer.errorNext(new TopicAuthorizationException("search.responses"));
      assertTrue(publisher.check().ok(), "reported, not a readiness failure: searches are answered");
      assertTrue(publisher.check().detail().contains("TopicAuthorizationException"), publisher.check().detail());
      publisher.publish("acme", "r-3", query, answer, 1000);
      producer.completeNext();
      assertEquals("ok", publisher.check().detail());
    }
  }
}
