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
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Tells search instances a new version is current: {@code index.published}, key tenant, with
 * the tenant and model-version headers and the build span's trace context.
 */
final class PublicationAnnouncer {

  /** The producer already retries for two minutes before it reports a failure. */
  private static final Duration ACK_TIMEOUT = Duration.ofMinutes(3);

  private final Supplier<Producer<byte[], byte[]>> producer;
  private final Tracing tracing;

  PublicationAnnouncer(Supplier<Producer<byte[], byte[]>> producer, Tracing tracing) {
    this.producer = producer;
    this.tracing = tracing;
  }

  void announce(IndexManifest m, long publishedAtMs) throws InterruptedException, ExecutionException, TimeoutException {
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
    tracing.propagator().inject(Context.current(), headers, KafkaHeadersCarrier.SETTER);
    producer.get().send(new ProducerRecord<>(Topics.INDEX_PUBLISHED.name(), null,
            m.tenant().getBytes(StandardCharsets.UTF_8), event.build().toByteArray(), headers))
        .get(ACK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
  }
}
