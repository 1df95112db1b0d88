package io.visualsearch.catalogdownloader;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.visualsearch.catalogfeed.CatalogDiff;
import io.visualsearch.catalogfeed.CatalogDiffer;
import io.visualsearch.catalogfeed.CatalogSnapshot;
import io.visualsearch.catalogfeed.FeedRefusedException;
import io.visualsearch.catalogfeed.FeedSource;
import io.visualsearch.catalogfeed.PendingIds;
import io.visualsearch.catalogfeed.Product;
import io.visualsearch.catalogfeed.RowError;
import io.visualsearch.pipeline.Activity;
import io.visualsearch.pipeline.PipelineHeaders;
import io.visualsearch.topics.Topics;
import io.visualsearch.tracing.KafkaHeadersCarrier;
import io.visualsearch.tracing.Tracing;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.function.LongConsumer;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One sync of one tenant's feed: download (conditionally), diff against the last applied
 * snapshot, emit only what changed — upserts, and tombstones for products that left — then, only
 * once every record is acknowledged, remember the new snapshot. The ids about to be sent are
 * recorded as pending before the first send and dropped after the snapshot is saved; a sync that
 * ends in between leaves them for the next one, which downloads the feed even if unchanged and
 * sends each of them again (upsert or tombstone, as the feed now says), whatever the snapshot says.
 * Consumers treat a repeated change as a no-op. Each product row starts its own trace (linked to
 * the sync's span), so one product can be followed from here to the index.
 */
final class CatalogSync {

  private static final Logger log = LoggerFactory.getLogger(CatalogSync.class);
  private static final int MAX_ERRORS_REPORTED = 100;
  private static final String REJECTED_ROW = "feed-row-rejected";

  /** The ids a tenant has products for in catalog.products now ({@link CatalogTopicIds}). */
  @FunctionalInterface
  interface LiveIds {
    Set<String> of(String tenant) throws IOException;
  }

  private final FeedFetcher fetcher;
  private final CatalogDiffer differ;
  private final CatalogStateStore state;
  private final Supplier<Producer<byte[], byte[]>> producer;
  private final RecordSizeLimit recordLimit;
  private final Tracing tracing;
  private final Activity activity;
  private final SyncLeases leases;
  private final Semaphore diffs;
  private final LiveIds liveIds;

  CatalogSync(FeedFetcher fetcher, CatalogDiffer differ, CatalogStateStore state,
      Supplier<Producer<byte[], byte[]>> producer, RecordSizeLimit recordLimit, Tracing tracing, Activity activity,
      SyncLeases leases, LiveIds liveIds) {
    this(fetcher, differ, state, producer, recordLimit, tracing, activity, leases, liveIds, new Semaphore(1, true));
  }

  /**
   * @param diffs held from reading the last snapshot to saving the next: syncs of several tenants
   *     download their feeds at once, but a diff holds both snapshots of its catalog in the heap
   *     (about 1 KiB a product), so the service is sized for one diff at a time, not one a thread
   */
  CatalogSync(FeedFetcher fetcher, CatalogDiffer differ, CatalogStateStore state,
      Supplier<Producer<byte[], byte[]>> producer, RecordSizeLimit recordLimit, Tracing tracing, Activity activity,
      SyncLeases leases, LiveIds liveIds, Semaphore diffs) {
    this.diffs = diffs;
    this.liveIds = liveIds;
    this.leases = leases;
    this.fetcher = fetcher;
    this.differ = differ;
    this.state = state;
    this.producer = producer;
    this.recordLimit = recordLimit;
    this.tracing = tracing;
    this.activity = activity;
  }

  SyncReport run(FeedLocation location, LongConsumer progress) throws IOException, InterruptedException {
    String tenant = location.tenant();
    Span sync = tracing.tracer().spanBuilder("catalog sync").setSpanKind(SpanKind.INTERNAL)
        .setAttribute("tenant", tenant).setAttribute("feed.source", location.display()).startSpan();
    try (Scope ignored = sync.makeCurrent()) {
      SyncReport report = sync(location, sync, progress);
      sync.setAttribute("sync.status", report.status().name());
      sync.setAttribute("sync.upserts", report.upserts());
      sync.setAttribute("sync.deletes", report.deletes());
      if (report.status() == SyncReport.Status.REFUSED) {
        sync.setStatus(StatusCode.ERROR, report.message());
      }
      if (report.status() != SyncReport.Status.BUSY) {
        // A busy sync did nothing: the last report stays the running sync's to write.
        state.saveReport(tenant, report);
      }
      log.info("catalog sync {}", report);
      return report;
    } catch (SyncLeases.LostException e) {
      // The sync that took over writes the tenant's state and report; none of this one's.
      sync.recordException(e);
      sync.setStatus(StatusCode.ERROR, e.getMessage());
      activity.recordError();
      throw e;
    } catch (IOException | InterruptedException | RuntimeException e) {
      sync.recordException(e);
      sync.setStatus(StatusCode.ERROR, String.valueOf(e.getMessage()));
      activity.recordError();
      try {
        state.saveReport(tenant, SyncReport.failed(tenant, location.display(), SyncReport.Status.FAILED,
            e.getClass().getSimpleName() + ": " + e.getMessage()));
      } catch (RuntimeException | IOException ignored) {
        // the store may be what failed; the log has it
      }
      throw e;
    } finally {
      sync.end();
    }
  }

  private SyncReport sync(FeedLocation location, Span sync, LongConsumer progress)
      throws IOException, InterruptedException {
    SyncLeases.Lease lease;
    try {
      lease = leases.acquire(location.tenant());
    } catch (SyncLeases.BusyException e) {
      return SyncReport.failed(location.tenant(), location.display(), SyncReport.Status.BUSY, e.getMessage());
    }
    try (lease) {
      return sync(location, sync, progress, lease);
    }
  }

  private SyncReport sync(FeedLocation location, Span sync, LongConsumer progress, SyncLeases.Lease lease)
      throws IOException, InterruptedException {
    String tenant = location.tenant();
    PendingIds unfinished = state.pending(tenant);
    // The feed may well be unchanged since the sync that left ids pending; only a diff reconciles them.
    SourceState validators = unfinished.isEmpty() ? state.source(tenant) : SourceState.NONE;
    Optional<FeedFetcher.Fetched> fetched;
    try {
      fetched = fetcher.fetch(location, validators);
    } catch (FeedUnusableException e) {
      return refused(location, e.refusal());
    }
    if (fetched.isEmpty()) {
      return SyncReport.notModified(tenant, location.display());
    }
    try {
      if (!diffs.tryAcquire()) {
        sync.addEvent("waits for another tenant's diff");
        diffs.acquire();
      }
      try {
        // The wait may be minutes, and the tenant taken over meanwhile: its pending ids are then
        // the taker's, which this sync must not overwrite.
        lease.requireHeld();
        return diff(location, sync, progress, lease, unfinished, fetched.get());
      } finally {
        diffs.release();
      }
    } finally {
      Files.deleteIfExists(fetched.get().file());
    }
  }

  private SyncReport diff(FeedLocation location, Span sync, LongConsumer progress, SyncLeases.Lease lease,
      PendingIds unfinished, FeedFetcher.Fetched fetched) throws IOException, InterruptedException {
    String tenant = location.tenant();
    Optional<CatalogSnapshot> saved = state.snapshot(tenant);
    CatalogSnapshot previous = saved.orElseGet(CatalogSnapshot::empty);
    PendingIds reconcile = saved.isEmpty() && state.hasSynced(tenant) ? lostSnapshot(tenant, sync) : unfinished;
    FeedSource source = FeedSource.of(fetched.file());
    UpsertRecords records = new UpsertRecords(tenant, location.display(), System.currentTimeMillis());
    CatalogDiff diff;
    try {
      // A product too large for one Kafka record is that row's error: sent, it failed the whole
      // sync and every retry, and the tenant's catalog stopped updating.
      diff = differ.diff(previous, reconcile, source, records.sizeCheck(recordLimit));
    } catch (FeedRefusedException e) {
      return refused(location, e);
    }
    // Recorded before the first send: if this sync ends before its snapshot is saved, the next one
    // cannot tell from the snapshot what the topic holds for these ids.
    PendingIds sending = diff.pending();
    if (!sending.isEmpty()) {
      lease.requireHeld(); // the diff of a large catalog takes a while too
      state.savePending(tenant, sending);
    }
    Acknowledgements acks = new Acknowledgements();
    long[] upserts = {0};
    try {
      diff.emitUpserts(p -> {
        lease.requireHeld();
        upsert(records, tenant, p, sync, acks);
        progress.accept(++upserts[0]);
      }, error -> {
        lease.requireHeld();
        rowError(tenant, location, error, acks);
      });
    } catch (FeedRefusedException e) {
      return refused(location, e);
    }
    for (String id : diff.deletes()) {
      lease.requireHeld();
      tombstone(tenant, id, sync, acks);
    }
    acks.await(producer.get());
    // Another sync may take the tenant over once this one stalls near the lease's end: it is
    // then the one whose state counts, and what this one sent is in the pending ids it read.
    lease.requireHeld();
    state.saveSnapshot(tenant, diff.next());
    lease.requireHeld(); // before each write: a store slow enough to stall one may cost the lease
    state.saveSource(tenant, fetched.state());
    if (!unfinished.isEmpty() || !sending.isEmpty()) {
      lease.requireHeld();
      state.clearPending(tenant, sending.isEmpty() ? unfinished : sending);
    }
    activity.recordActivity();
    List<String> errors = diff.errors().stream().limit(MAX_ERRORS_REPORTED).map(RowError::toString).toList();
    return new SyncReport(tenant, location.display(), SyncReport.Status.APPLIED,
        diff.summary().format().name(), diff.summary().rows(), upserts[0], diff.deletes().size(), diff.unchanged(),
        diff.reconciled(), diff.summary().rejected(), errors, "", System.currentTimeMillis());
  }

  /**
   * A tenant synced before and its snapshot is gone or unreadable (a bucket restored from an older
   * copy, an operator's clean-up, a lifecycle rule). Diffed against nothing, every product that left
   * the feed since the last sync would stay searchable for good; the topic itself says what the
   * consumers hold, so each of its ids is sent again, as after an unfinished sync: upserted if the
   * feed has it, else tombstoned (the deletion guard counting them as the catalog).
   */
  private PendingIds lostSnapshot(String tenant, Span sync) throws IOException {
    long t0 = System.nanoTime();
    Set<String> live = liveIds.of(tenant);
    log.warn("tenant {}: catalog/{}/snapshot.bin is lost though the tenant synced before; catalog.products holds {}"
        + " of its products (read in {} ms): each is sent again, tombstoned if the feed no longer has it", tenant,
        tenant, live.size(), (System.nanoTime() - t0) / 1_000_000);
    sync.addEvent("snapshot lost: ids read back from " + Topics.CATALOG_PRODUCTS.name(),
        Attributes.of(AttributeKey.longKey("catalog.ids"), (long) live.size()));
    return PendingIds.heldByTopic(live);
  }

  private SyncReport refused(FeedLocation location, FeedRefusedException e) throws InterruptedException, IOException {
    String message = e.reason() + ": " + e.getMessage();
    log.error("catalog sync {}: feed refused, nothing applied: {}", location.tenant(), message);
    String reason = "feed-refused-" + e.reason().name().toLowerCase(Locale.ROOT);
    RecordHeaders h = dlqHeaders(location.tenant(), reason, message);
    // In the sync's trace, as rejected rows are: from the dead letter to the sync that refused it.
    tracing.propagator().inject(Context.current(), h, KafkaHeadersCarrier.SETTER);
    Acknowledgements ack = new Acknowledgements();
    producer.get().send(new ProducerRecord<>(Topics.CATALOG_PRODUCTS.dlq().name(), null,
        (location.tenant() + "/").getBytes(StandardCharsets.UTF_8),
        location.display().getBytes(StandardCharsets.UTF_8), h), ack);
    ack.await(producer.get());
    activity.deadLettered(Topics.CATALOG_PRODUCTS.name(), reason, location.tenant()); // once written
    return SyncReport.failed(location.tenant(), location.display(), SyncReport.Status.REFUSED, message);
  }

  private void upsert(UpsertRecords records, String tenant, Product p, Span sync, Acknowledgements acks) {
    Span row = tracing.tracer().spanBuilder("catalog product")
        .setNoParent()
        .addLink(sync.getSpanContext())
        .setSpanKind(SpanKind.PRODUCER)
        .setAttribute("tenant", tenant).setAttribute("sku", p.id()).startSpan();
    try (Scope ignored = row.makeCurrent()) {
      send(Topics.CATALOG_PRODUCTS.name(), records.key(p), records.value(p).toByteArray(), tenant, acks);
    } finally {
      row.end();
    }
  }

  private void tombstone(String tenant, String id, Span sync, Acknowledgements acks) {
    Span row = tracing.tracer().spanBuilder("catalog product removed").setNoParent().addLink(sync.getSpanContext())
        .setSpanKind(SpanKind.PRODUCER).setAttribute("tenant", tenant).setAttribute("sku", id).startSpan();
    try (Scope ignored = row.makeCurrent()) {
      send(Topics.CATALOG_PRODUCTS.name(), Topics.key(tenant, id).getBytes(StandardCharsets.UTF_8), null, tenant, acks);
    } finally {
      row.end();
    }
  }

  private void send(String topic, byte[] key, byte[] value, String tenant, Acknowledgements acks) {
    RecordHeaders h = new RecordHeaders();
    h.add(PipelineHeaders.TENANT, tenant.getBytes(StandardCharsets.UTF_8));
    tracing.propagator().inject(Context.current(), h, KafkaHeadersCarrier.SETTER);
    producer.get().send(new ProducerRecord<>(topic, null, key, value, h), acks);
  }

  /**
   * Every rejected row, as the second pass reads it: the report lists only the first few. Counted
   * like a consumer loop's dead letter, and carrying the sync's trace context (the sync span is
   * current): a span of its own per row started thousands of traces at every sync of a feed
   * whose rows are rejected each time.
   */
  private void rowError(String tenant, FeedLocation location, RowError error, Acknowledgements acks) {
    String id = error.id() == null || error.id().isEmpty() ? "line-" + error.line() : error.id();
    RecordHeaders h = dlqHeaders(tenant, REJECTED_ROW, error.reason());
    h.add("feed.line", Long.toString(error.line()).getBytes(StandardCharsets.UTF_8));
    h.add("feed.source", location.display().getBytes(StandardCharsets.UTF_8));
    tracing.propagator().inject(Context.current(), h, KafkaHeadersCarrier.SETTER);
    // Counted once written, as a consumer loop counts its dead letters: a broker refusing the DLQ
    // made every retried sync report all its rejected rows dead-lettered, none of them written.
    producer.get().send(new ProducerRecord<>(Topics.CATALOG_PRODUCTS.dlq().name(), null,
        (tenant + "/" + id).getBytes(StandardCharsets.UTF_8), error.toString().getBytes(StandardCharsets.UTF_8), h),
        (metadata, failure) -> {
          if (failure == null) {
            activity.deadLettered(Topics.CATALOG_PRODUCTS.name(), REJECTED_ROW, tenant);
          }
          acks.onCompletion(metadata, failure);
        });
  }

  private static RecordHeaders dlqHeaders(String tenant, String reason, String message) {
    RecordHeaders h = new RecordHeaders();
    h.add(PipelineHeaders.TENANT, tenant.getBytes(StandardCharsets.UTF_8));
    h.add(PipelineHeaders.DLQ_REASON, reason.getBytes(StandardCharsets.UTF_8));
    h.add(PipelineHeaders.DLQ_EXCEPTION_MESSAGE, message.getBytes(StandardCharsets.UTF_8));
    h.add(PipelineHeaders.DLQ_SERVICE, CatalogDownloaderService.NAME.getBytes(StandardCharsets.UTF_8));
    h.add(PipelineHeaders.DLQ_TIMESTAMP, Long.toString(System.currentTimeMillis()).getBytes(StandardCharsets.UTF_8));
    return h;
  }
}
