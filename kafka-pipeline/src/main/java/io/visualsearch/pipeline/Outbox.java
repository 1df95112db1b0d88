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

  /**
   * One send: the input record it was made for (null when made off the thread handling a record)
   * and whether it is that record's dead letter.
   */
  record Sent(RecordPosition origin, boolean deadLetter, Future<RecordMetadata> ack) {}

  private record Booking(RecordPosition origin, Runnable count) {}

  private final Producer<byte[], byte[]> producer;
  private final Tracing tracing;
  // Handlers of one batch may run on several threads (ConsumerLoop concurrency).
  private final List<Sent> pending = java.util.Collections.synchronizedList(new ArrayList<>());
  /** What to count once the records are acknowledged (see {@link #onAcknowledged}). */
  private final List<Booking> bookings = java.util.Collections.synchronizedList(new ArrayList<>());
  /** The input record this thread handles now, which its sends are made for. */
  private final ThreadLocal<RecordPosition> handling = new ThreadLocal<>();

  /** Told by a long handler that it is getting on (see {@link #progressed()}). */
  private final Runnable onProgress;

  public Outbox(Producer<byte[], byte[]> producer, Tracing tracing) {
    this(producer, tracing, () -> { });
  }

  Outbox(Producer<byte[], byte[]> producer, Tracing tracing, Runnable onProgress) {
    this.producer = producer;
    this.tracing = tracing;
    this.onProgress = onProgress;
  }

  /**
   * Says the handler is getting on with a record that takes long by nature (a similar-items job of
   * an hour over a large catalog, one chunk of products after the other): the loop's bound on a
   * batch, {@code KAFKA_MAX_BATCH_TIME}, then counts from here, so the job is neither reported
   * stuck nor restarted while it writes. A handler stuck on a call says nothing, and is.
   */
  public void progressed() {
    onProgress.run();
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
    return send(topic, key == null ? null : key.getBytes(StandardCharsets.UTF_8), value, headers, false);
  }

  /** The record's dead letter, with the key's bytes as they are (even a key that is not UTF-8). */
  Future<RecordMetadata> sendDeadLetter(String topic, byte[] key, byte[] value, Headers headers) {
    return send(topic, key, value, headers, true);
  }

  private Future<RecordMetadata> send(String topic, byte[] key, byte[] value, Headers headers, boolean deadLetter) {
    tracing.propagator().inject(Context.current(), headers, KafkaHeadersCarrier.SETTER);
    Future<RecordMetadata> f = producer.send(new ProducerRecord<>(topic, null, key, value, headers));
    pending.add(new Sent(handling.get(), deadLetter, f));
    return f;
  }

  /** What this thread sends until {@link #handled()} is made for the input record at {@code position}. */
  void handling(RecordPosition position) {
    handling.set(position);
  }

  void handled() {
    handling.remove();
  }

  /**
   * Runs {@code booking} once every record of the batch is acknowledged, never if one is not (the
   * batch is then handled again, and counting it each time inflated the health page's activity and
   * dead letters for records never written).
   */
  public void onAcknowledged(Runnable booking) {
    bookings.add(new Booking(handling.get(), booking));
  }

  /** Runs the bookings of a batch whose records were all acknowledged. */
  void acknowledged() {
    acknowledged(origin -> true);
  }

  /**
   * Runs the bookings made for the records {@code settled} accepts (acknowledged and not to be
   * handled again; null for bookings made off a handling thread) and drops the others, whose
   * records are handled again.
   */
  void acknowledged(java.util.function.Predicate<RecordPosition> settled) {
    synchronized (bookings) {
      for (Booking b : bookings) {
        if (settled.test(b.origin())) {
          b.count().run();
        }
      }
      bookings.clear();
    }
  }

  /** Sends that are not yet known to be acknowledged; cleared by {@link #drain()}. */
  List<Sent> drain() {
    synchronized (pending) {
      List<Sent> out = new ArrayList<>(pending);
      pending.clear();
      return out;
    }
  }
}
