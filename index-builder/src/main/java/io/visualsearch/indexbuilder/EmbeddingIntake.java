package io.visualsearch.indexbuilder;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.context.Context;
import io.visualsearch.pipeline.Outbox;
import io.visualsearch.pipeline.PoisonRecordException;
import io.visualsearch.pipeline.RecordHandler;
import io.visualsearch.tracing.KafkaHeadersCarrier;
import io.visualsearch.tracing.Tracing;
import java.time.Clock;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Applies embeddings records to the catalogs and tells the schedule which tenants changed. The
 * consumer loop calls it as its {@link RecordHandler} (poison is thrown, so the loop
 * dead-letters it); the start-up replay calls {@link #replay} (poison is skipped: the loop
 * already dead-lettered it, or will when it reaches it), then {@link #replayed}, which settles the
 * dimensions a replay cannot judge record by record.
 *
 * <p>The handler never touches the object store, so an object-store outage never stalls intake;
 * builds retry on their own thread.
 */
final class EmbeddingIntake implements RecordHandler {

  private final EmbeddingDecoder decoder;
  private final Catalogs catalogs;
  private final RebuildSchedule schedule;
  private final Tracing tracing;
  private final Clock clock;

  EmbeddingIntake(EmbeddingDecoder decoder, Catalogs catalogs, RebuildSchedule schedule, Tracing tracing, Clock clock) {
    this.decoder = decoder;
    this.catalogs = catalogs;
    this.schedule = schedule;
    this.tracing = tracing;
    this.clock = clock;
  }

  /** Live records: linked to the loop's span for this record, which continues the product's trace. */
  @Override
  public void handle(ConsumerRecord<byte[], byte[]> rec, Outbox out) throws PoisonRecordException {
    apply(rec, Span.current().getSpanContext());
  }

  /** Replayed records: linked to the span that produced them, read from the headers. */
  boolean replay(ConsumerRecord<byte[], byte[]> rec) {
    SpanContext origin = Span.fromContext(
        tracing.propagator().extract(Context.root(), rec.headers(), KafkaHeadersCarrier.GETTER)).getSpanContext();
    try {
      apply(rec, origin, true);
      return true;
    } catch (PoisonRecordException e) {
      return false;
    }
  }

  /**
   * The replay has read everything: vectors of a dimension most of their tenant's products of that
   * model do not have are refused now. Returns how many products lost their latest vector.
   */
  int replayed() {
    return catalogs.settleDimensions();
  }

  private void apply(ConsumerRecord<byte[], byte[]> rec, SpanContext origin) throws PoisonRecordException {
    apply(rec, origin, false);
  }

  private void apply(ConsumerRecord<byte[], byte[]> rec, SpanContext origin, boolean replaying)
      throws PoisonRecordException {
    EmbeddingChange change;
    try {
      change = decoder.decode(rec, origin);
    } catch (PoisonRecordException e) {
      catalogs.advance(rec.partition(), rec.offset());
      throw e;
    }
    // The producer's timestamp, not now: a replay after a restart applies hours of records in
    // seconds, and which model's vectors came last decides what a tenant's index is built from.
    long producedAtMs = rec.timestamp() > 0 ? rec.timestamp() : clock.millis();
    boolean changed = replaying
        ? catalogs.replay(change, rec.partition(), rec.offset(), producedAtMs)
        : catalogs.apply(change, rec.partition(), rec.offset(), producedAtMs);
    if (changed) {
      schedule.changed(change.tenant(), clock.millis());
    }
  }
}
