package io.visualsearch.indexbuilder;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.visualsearch.indexformat.IndexJson;
import io.visualsearch.indexformat.IndexManifest;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.tracing.Tracing;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One tenant's build, start to end: snapshot the catalog, look at what is served, decide which
 * model's vectors to index, build the shards, upload, flip CURRENT, announce, collect old
 * versions. Runs inside a build span that links to the product spans it covers. Once CURRENT is
 * flipped the version is published, whatever becomes of its announcement (see
 * {@link PendingAnnouncements}). Start-up and periodic checks that publish nothing collect old
 * versions too.
 */
final class TenantBuild {

  private static final Logger log = LoggerFactory.getLogger(TenantBuild.class);

  /** How the attempt ended, and for a hold when to look again. */
  record Result(BuildMetrics.Outcome outcome, long recheckAtMs) {}

  /** Everything a build needs, wired once by the service. */
  record Parts(Catalogs catalogs, ObjectStore store, IndexJson json, ModelSelection selection, ShardBuilder shards,
      VersionWriter writer, PublicationAnnouncer announcer, VersionCollector collector, IndexVersions versions,
      RecipeChooser recipes, Tracing tracing, BuildMetrics metrics, Clock clock, AnnouncedVersions announced) {}

  /** Picks the recipe for a catalog size and dimension (settings bound in). */
  @FunctionalInterface
  interface RecipeChooser {
    IndexRecipe choose(int vectors, int dimension);
  }

  private final Parts p;
  private final PendingAnnouncements announcements;
  private final PeriodicCheck periodic;

  TenantBuild(Parts parts) {
    this.p = parts;
    this.announcements = new PendingAnnouncements(parts.announcer(), parts.metrics(), parts.clock());
    this.periodic = new PeriodicCheck(parts.recipes(), parts.shards());
  }

  /** Announcements not acknowledged yet; the build thread retries them. */
  PendingAnnouncements announcements() {
    return announcements;
  }

  Result run(RebuildSchedule.Ticket ticket) throws Exception {
    TenantSnapshot snap = p.catalogs().snapshot(ticket.tenant()).orElse(null);
    if (snap == null) {
      return new Result(BuildMetrics.Outcome.UP_TO_DATE, 0);
    }
    p.metrics().catalog(snap.tenant(), snap.products().size());
    SpanBuilder sb = p.tracing().tracer().spanBuilder("index build")
        .setNoParent()
        .setAttribute("tenant", snap.tenant())
        .setAttribute("build.trigger", ticket.trigger().name().toLowerCase(java.util.Locale.ROOT));
    for (SpanContext origin : snap.origins()) {
      sb.addLink(origin);
    }
    Span span = sb.startSpan();
    try (Scope ignored = span.makeCurrent()) {
      Result r = build(ticket, snap, span);
      span.setAttribute("build.outcome", r.outcome().name().toLowerCase(java.util.Locale.ROOT));
      return r;
    } catch (Exception | Error e) {
      span.recordException(e);
      span.setStatus(StatusCode.ERROR, e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
      throw e;
    } finally {
      span.end();
    }
  }

  /**
   * False when the replay settled the published model on another dimension than the published index
   * has: its vectors are then the ones this builder now refuses, and it is rebuilt at once rather
   * than at the tenant's next change.
   */
  private static boolean ofSettledDimension(PublishedIndex published, ModelKey publishedModel, TenantSnapshot snap) {
    Integer settled = publishedModel == null ? null : snap.dimensions().get(publishedModel);
    return settled == null || settled == published.manifest().dimension();
  }

  /**
   * Announces the published version when index.published does not name it: the last run stopped
   * between the flip and the announcement's acknowledgement. Wherever a build ends without a new
   * version, not only when the version covers every change: an emptied catalog's version stays
   * "up to date" for good once a later deletion arrives, and a held build may wait long, while
   * response-consumer keeps the removed products' similar items until it is announced.
   */
  private void announceIfMissing(PublishedIndex before, Span span) {
    if (before.manifest() == null || p.announced().covers(before.manifest().tenant(), before.version())) {
      return;
    }
    log.info("tenant {}: index.published does not name version {}, announcing it now", before.manifest().tenant(),
        before.version());
    span.setAttribute("index.version", before.version());
    announce(before.manifest(), before.pointer().updatedAtMs());
  }

  private void announce(IndexManifest manifest, long publishedAtMs) {
    p.announced().announcing(manifest.tenant(), manifest.version());
    announcements.announce(manifest, publishedAtMs);
  }

  private Result build(RebuildSchedule.Ticket ticket, TenantSnapshot recorded, Span span) throws Exception {
    long t0 = System.nanoTime();
    String tenant = recorded.tenant();
    PublishedIndex before = PublishedIndex.read(p.store(), p.json(), tenant);
    LegacyVariants variants = LegacyVariants.of(recorded, before.model(),
        before.manifest() == null ? 0 : before.manifest().dimension());
    TenantSnapshot snap = variants.apply(recorded);
    ModelKey published = variants.resolve(before.model());
    // A periodic check of a covered catalog rebuilds only what a rebuild would change (PeriodicCheck);
    // a start-up check never does, or every restart after a settings change rebuilt every tenant at once.
    if (ticket.trigger() != RebuildSchedule.Trigger.CHANGED && before.manifest() != null
        && snap.coveredBy(before.manifest().embeddingsOffsets()) && ofSettledDimension(before, published, snap)
        && (ticket.trigger() == RebuildSchedule.Trigger.STARTUP || !periodic.rebuildDiffers(before))) {
      log.info("tenant {}: published version {} already covers every change, no rebuild", tenant, before.version());
      p.metrics().serving(tenant, before.manifest().vectorCount());
      announceIfMissing(before, span);
      collectUnchanged(ticket, before);
      return new Result(BuildMetrics.Outcome.UP_TO_DATE, 0);
    }
    long now = p.clock().millis();
    ModelSelection.Decision decision = p.selection().choose(snap.productsPerModel(), snap.lastArrivalMs(),
        snap.lastProducedMs(), published, before.manifest() == null ? 0 : before.manifest().vectorCount(), now);
    ModelKey model;
    int dimension;
    List<ProductVector> vectors;
    if (decision == null) {
      // Every product is gone: publish an empty index of the served model, so search returns nothing.
      if (before.manifest() == null || before.manifest().vectorCount() == 0 || published == null) {
        announceIfMissing(before, span);
        collectUnchanged(ticket, before);
        return new Result(BuildMetrics.Outcome.UP_TO_DATE, 0);
      }
      model = published;
      dimension = before.manifest().dimension();
      vectors = List.of();
    } else if (!decision.build()) {
      log.info("tenant {}: build held: {}", tenant, decision.holdReason());
      span.setAttribute("build.hold_reason", decision.holdReason());
      announceIfMissing(before, span);
      collectUnchanged(ticket, before);
      return new Result(BuildMetrics.Outcome.HELD, p.selection().recheckAtMs(snap.lastArrivalMs(), decision.model()));
    } else {
      model = decision.model();
      dimension = snap.dimensions().get(model);
      vectors = snap.vectorsOf(model);
    }

    IndexRecipe recipe = p.recipes().choose(vectors.size(), dimension);
    String version = p.versions().next(Instant.ofEpochMilli(now));
    span.setAttribute("index.version", version);
    span.setAttribute("model.name", model.name());
    span.setAttribute("model.version", model.version());
    span.setAttribute("vectors", (long) vectors.size());
    span.setAttribute("factory", recipe.factory());
    IndexManifest manifest;
    int shards;
    BuiltIndex.Training training;
    // The exact vectors of quantised shards wait in temporary files until uploaded.
    try (BuiltIndex built = p.shards().build(tenant, model, vectors, dimension, recipe,
        ticket.trigger() == RebuildSchedule.Trigger.PERIODIC)) {
      span.setAttribute("shards", (long) built.shards().size());
      span.setAttribute("trained", built.trained());
      shards = built.shards().size();
      training = built.training();
      try {
        manifest = p.writer().upload(tenant, version, built,
            new VersionWriter.ManifestFacts(now, model, dimension, recipe, snap.watermarks()));
      } catch (RuntimeException e) {
        discardUnlessCurrent(tenant, version, "its upload failed");
        throw e;
      }
    }
    // A flip that fails is not undone: the store may still apply a write whose answer was lost
    // or abandoned after its timeout, and CURRENT would name a deleted version. The version is
    // whole (its manifest written), so collection decides about it once CURRENT is known.
    long flippedAtMs = p.clock().millis();
    VersionWriter.Flip flip = p.writer().flip(tenant, manifest, before, flippedAtMs);
    if (!flip.published()) {
      log.info("tenant {}: version {} not published, CURRENT is {}", tenant, version, flip.previousVersion());
      discardUnlessCurrent(tenant, version, "another builder published first");
      return new Result(BuildMetrics.Outcome.LOST_RACE, 0);
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    p.metrics().published(tenant, vectors.size(), seconds);
    log.info("tenant {}: published version {} ({} vectors of model {}, {}, {} shard(s)) in {} ms", tenant, version,
        vectors.size(), model, recipe.factory(), shards, Math.round(seconds * 1000));
    // Published: a failed announcement is retried on its own (never by building again), and
    // collection runs whatever becomes of it.
    announce(manifest, p.clock().millis());
    markIndexed(snap, version, span);
    periodic.published(tenant, version, training);
    collect(tenant, version, flip.previousVersion(), Instant.ofEpochMilli(flippedAtMs));
    return new Result(BuildMetrics.Outcome.PUBLISHED, 0);
  }

  /**
   * An "indexed" span in the trace of each product the build is linked to: Zipkin's format has no
   * links, so without it a product's trace in Zipkin ended before the version that indexed it, and
   * the build's trace stood apart. Tagged with the build's trace id to jump there.
   */
  private void markIndexed(TenantSnapshot snap, String version, Span build) {
    for (SpanContext origin : snap.origins()) {
      p.tracing().tracer().spanBuilder("indexed").setParent(Context.root().with(Span.wrap(origin)))
          .setAttribute("tenant", snap.tenant()).setAttribute("index.version", version)
          .setAttribute("build.trace_id", build.getSpanContext().getTraceId()).startSpan().end();
    }
  }

  /**
   * Deletes a version this build wrote but did not publish (its upload failed, or another builder
   * flipped first): each retry of a failing build names a new version, and a store failing
   * part-way through large tenants' uploads grew the bucket by a partial index per retry, which
   * collection only reached after a later publication. Best effort, and never the version CURRENT
   * names (or when CURRENT cannot be read): what is left is collected after the tenant's next
   * publication or start-up or periodic check.
   */
  private void discardUnlessCurrent(String tenant, String version, String why) {
    try {
      var pointer = p.store().get(io.visualsearch.indexformat.IndexLayout.currentPointer(tenant));
      if (pointer.isPresent() && version.equals(p.json().pointer(pointer.get().bytes()).version())) {
        return;
      }
      int deleted = p.collector().discard(tenant, version);
      log.info("tenant {}: version {} deleted ({} objects): {}", tenant, version, deleted, why);
    } catch (Exception e) {
      log.warn("tenant {}: version {} left for garbage collection ({}); deleting it failed: {}", tenant, version, why,
          e.getMessage());
    }
  }

  /**
   * Collection where a start-up or periodic check publishes nothing. It ran only after a
   * publication, so a tenant that stopped changing kept its old versions for good, the one its last
   * publication replaced included: a retailer who emptied the catalog kept the full index, every
   * vector and SKU of it, in the bucket. Which version CURRENT replaced is not known here; the
   * newest older one is kept in its place for as long as {@link RetentionPolicy} keeps that. Not
   * for a CURRENT whose manifest cannot be read (what is older may be all a reader can load), nor
   * for change-driven builds held during a migration, rechecked every few seconds.
   */
  private void collectUnchanged(RebuildSchedule.Ticket ticket, PublishedIndex before) {
    if (ticket.trigger() == RebuildSchedule.Trigger.CHANGED || before.manifest() == null) {
      return;
    }
    collect(before.manifest().tenant(), before.version(), null, before.currentSince());
  }

  /** Garbage collection is housekeeping: a failure is logged and tried again at the next build or check. */
  private void collect(String tenant, String current, String previous, Instant currentSince) {
    try {
      List<String> deleted = p.collector().collect(tenant, current, previous, currentSince, p.clock().instant());
      if (!deleted.isEmpty()) {
        p.metrics().collected(deleted.size());
        log.info("tenant {}: deleted old index versions {}", tenant, deleted);
      }
    } catch (RuntimeException e) {
      log.warn("tenant {}: garbage collection failed: {}", tenant, e.getMessage());
    }
  }
}
