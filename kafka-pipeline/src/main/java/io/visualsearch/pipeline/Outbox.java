package io.visualsearch.pipeline;

import io.opentelemetry.context.Context;
import io.visualsearch.tracing.KafkaHeadersCarrier;
import io.visualsearch.tracing.Tracing;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Sends records on behalf of a handler, stamping the current trace context and remembering each
 * send so the caller can wait for its acknowledgement before committing the input.
 */
public final class Outbox {

  private final Producer<byte[], byte[]> producer;
  private final Tracing tracing;
  // Handlers of one batch may run on several threads (ConsumerLoop concurrency).
  private final List<Future<RecordMetadata>> pending = java.util.Collections.synchronizedList(new ArrayList<>());
  /** What to count once the batch's records are acknowledged (see {@link #onAcknowledged}). */
  private final List<Runnable> bookings = java.util.Collections.synchronizedList(new ArrayList<>());

  public Outbox(Producer<byte[], byte[]> producer, Tracing tracing) {
    this.producer = producer;
    this.tracing = tracing;
  }

  /** Sends {@code value} (null = tombstone) with the tenant header and the current trace context. */
  public Future<RecordMetadata> send(String topic, String key, byte[] value, String tenant) {
    Headers headers = new RecordHeaders();
    if (tenant != null) {
      headers.add(PipelineHeaders.TENANT, tenant.getBytes(StandardCharsets.UTF_8));
    }
    return send(topic, key, value, headers);
  }

  public Future<RecordMetadata> send(String topic, String key, byte[] value, Headers headers) {
    return send(topic, key == null ? null : key.getBytes(StandardCharsets.UTF_8), value, headers);
  }

  /** With the key's bytes as they are: a dead-letter copy keeps even a key that is not UTF-8. */
  Future<RecordMetadata> send(String topic, byte[] key, byte[] value, Headers headers) {
    tracing.propagator().inject(Context.current(), headers, KafkaHeadersCarrier.SETTER);
    Future<RecordMetadata> f = producer.send(new ProducerRecord<>(topic, null, key, value, headers));
    pending.add(f);
    return f;
  }

  /**
   * Runs {@code booking} once every record of the batch is acknowledged, never if one is not (the
   * batch is then handled again, and counting it each time inflated the health page's activity and
   * dead letters for records never written).
   */
  void onAcknowledged(Runnable booking) {
    bookings.add(booking);
  }

  /** Runs the bookings of a batch whose records were all acknowledged. */
  void acknowledged() {
    synchronized (bookings) {
      bookings.forEach(Runnable::run);
      bookings.clear();
    }
  }

  /** Sends that are not yet known to be acknowledged; cleared by {@link #drain()}. */
  List<Future<RecordMetadata>> drain() {
    synchronized (pending) {
      List<Future<RecordMetadata>> out = new ArrayList<>(pending);
      pending.clear();
      return out;
    }
  }
}
