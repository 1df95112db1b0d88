package io.visualsearch.indexbuilder;

import io.opentelemetry.context.Context;
import io.visualsearch.indexformat.IndexLayout;
import io.visualsearch.indexformat.IndexManifest;
import io.visualsearch.pipeline.PipelineHeaders;
import io.visualsearch.proto.events.IndexPublished;
import io.visualsearch.topics.Topics;
import io.visualsearch.tracing.KafkaHeadersCarrier;
import io.visualsearch.tracing.Tracing;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Tells search instances a new version is current: {@code index.published}, key tenant, with
 * the tenant and model-version headers and the build span's trace context. Sends without waiting
 * for the acknowledgement: {@link PendingAnnouncements} keeps what is not acknowledged yet.
 */
final class PublicationAnnouncer {

  private final Supplier<Producer<byte[], byte[]>> producer;
  private final Tracing tracing;

  PublicationAnnouncer(Supplier<Producer<byte[], byte[]>> producer, Tracing tracing) {
    this.producer = producer;
    this.tracing = tracing;
  }

  /**
   * The event announcing {@code m}. Throws when the manifest cannot make one (a field it needs is
   * missing): no retry can change that.
   *
   * @param trace the context of the build span that flipped CURRENT, also when sent again later
   */
  ProducerRecord<byte[], byte[]> event(IndexManifest m, long publishedAtMs, Context trace) {
    IndexPublished.Builder event = IndexPublished.newBuilder()
        .setTenant(m.tenant())
        .setIndexVersion(m.version())
        .setManifestKey(IndexLayout.manifest(m.tenant(), m.version()))
        .setModelName(m.modelName())
        .setModelVersion(m.modelVersion())
        .setVectorCount(m.vectorCount())
        .setPublishedAtMs(publishedAtMs);
    // The event names the highest offset covered; the manifest names the next one to read.
    for (Map.Entry<Integer, Long> e : m.embeddingsOffsets().entrySet()) {
      event.putEmbeddingsOffsets(e.getKey(), e.getValue() - 1);
    }
    RecordHeaders headers = new RecordHeaders();
    headers.add(PipelineHeaders.TENANT, m.tenant().getBytes(StandardCharsets.UTF_8));
    headers.add(PipelineHeaders.MODEL_VERSION, Long.toString(m.modelVersion()).getBytes(StandardCharsets.UTF_8));
    tracing.propagator().inject(trace, headers, KafkaHeadersCarrier.SETTER);
    return new ProducerRecord<>(Topics.INDEX_PUBLISHED.name(), null, m.tenant().getBytes(StandardCharsets.UTF_8),
        event.build().toByteArray(), headers);
  }

  /**
   * Hands the event to the producer; {@code done} hears how it ended (on the producer's thread).
   * Throws when the producer refuses it outright (not started, closed).
   */
  void send(ProducerRecord<byte[], byte[]> event, Callback done) {
    producer.get().send(event, done);
  }
}
