package io.visualsearch.searchapi.fresh;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.imagevalidation.NormalisedImage;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.StoredObject;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import io.visualsearch.searchapi.embed.QueryEmbedder;
import io.visualsearch.searchapi.index.IndexModel;
import io.visualsearch.searchapi.index.LoadedIndex;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a catalog's changes searchable during a model rollout. The embeddings-generator embeds
 * every change with the new model only, and the index served until the new model's index is
 * published cannot search those vectors: a new product, or a new picture, would wait for the end
 * of the rollout, hours for a large catalog. For such a record ({@link FreshDelta#needsStandIn})
 * this embeds the product's normalised picture ({@code images/<sha256>}, which the generator read
 * too) with the served index's model version and variant, as a query is, and gives the delta the
 * vector as the record's stand-in for that index. The re-embedding of unchanged products that makes
 * up a rollout needs none: the served index holds their picture.
 *
 * <p>One thread and a bounded queue: the model server is shared with queries. A record that gets
 * no stand-in (queue full, picture missing, model or store failing) waits for the new model's index,
 * as it did before; each outcome is counted.
 */
public final class RolloutReembedder implements Component, FreshnessFollower.OtherModelRecords {

  private static final Logger log = LoggerFactory.getLogger(RolloutReembedder.class);
  /**
   * Records waiting for a stand-in at most: a few minutes of a busy catalog's changes at the model's
   * pace, while a rollout's burst of re-embedded unchanged products never queues (it needs none).
   */
  public static final int MAX_QUEUED = 1000;

  private final ObjectStore store;
  private final QueryEmbedder embedder;
  private final Tracer tracer;
  private final int maxQueued;
  private final Counter outcomes;
  private volatile ThreadPoolExecutor worker;

  /** {@code maxQueued}: records waiting for their stand-in at most; later ones are dropped. */
  public RolloutReembedder(ObjectStore store, QueryEmbedder embedder, int maxQueued, PrometheusRegistry registry,
      Tracer tracer) {
    this.store = store;
    this.embedder = embedder;
    this.maxQueued = maxQueued;
    this.tracer = tracer;
    this.outcomes = Counter.builder().name("search_rollout_stand_ins_total")
        .help("Records of another model than the served index's, by what became of their stand-in: embedded,"
            + " superseded, dropped (queue full), image_missing, failed")
        .labelNames("outcome").register(registry);
  }

  @Override
  public String name() {
    return "rollout-reembedder";
  }

  @Override
  public void start() {
    ThreadPoolExecutor w = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
        new ArrayBlockingQueue<>(maxQueued), runnable -> {
          Thread t = new Thread(runnable, "rollout-reembedder");
          t.setDaemon(true);
          return t;
        });
    worker = w;
  }

  @Override
  public void arrived(FreshDelta delta, DeltaEntry entry, String imageSha256) {
    Optional<LoadedIndex> served = delta.needsStandIn(entry);
    ThreadPoolExecutor w = worker;
    if (served.isEmpty() || w == null || !NormalisedImage.isSha256(imageSha256)) {
      return;
    }
    // The record's own span ("embeddings follow", under the product's trace): the stand-in is the
    // step that makes the change searchable, and started from the root it was a trace of its own.
    Context record = Context.current();
    // The task keeps the served version's model, not the version: queued behind the model's other
    // calls for minutes, it would hold a version swapped out meanwhile (its maps of every product)
    // on the heap until it ran. The delta checks the stand-in against the version it serves then.
    String tenant = served.get().tenant();
    IndexModel model = served.get().model();
    try {
      w.execute(() -> standIn(delta, entry, imageSha256, tenant, model, record));
    } catch (RejectedExecutionException e) {
      outcomes.labelValues("dropped").inc();
    }
  }

  private void standIn(FreshDelta delta, DeltaEntry entry, String imageSha256, String tenant, IndexModel served,
      Context record) {
    Span span = tracer.spanBuilder("embed stand-in for served model").setParent(record)
        .setAttribute("tenant", tenant).setAttribute("sku", entry.sku())
        .setAttribute("model.version", served.version()).startSpan();
    String outcome = "failed";
    try (Scope ignored = span.makeCurrent()) {
      outcome = embedAndKeep(delta, entry, imageSha256, served);
    } catch (IOException | RuntimeException e) {
      span.recordException(e);
      span.setStatus(StatusCode.ERROR);
      log.debug("no stand-in for {}: {}", entry.sku(), e.toString());
    } finally {
      span.setAttribute("outcome", outcome);
      span.end();
      outcomes.labelValues(outcome).inc();
    }
  }

  private String embedAndKeep(FreshDelta delta, DeltaEntry entry, String imageSha256, IndexModel served)
      throws IOException {
    if (delta.needsStandIn(entry).isEmpty()) {
      return "superseded";
    }
    Optional<StoredObject> picture = store.get(NormalisedImage.objectKey(imageSha256));
    if (picture.isEmpty()) {
      return "image_missing";
    }
    BufferedImage image = NormalisedImage.decode(picture.get().bytes());
    QueryEmbedder.QueryVector v = embedder.embed(image, served.name(), served.version(), served.signature(),
        served.variant());
    boolean fits = served.fits(v.modelName(), v.modelVersion(), v.signature(), v.variant())
        && v.vector().length == served.dimension();
    for (float x : v.vector()) {
      fits &= Float.isFinite(x);
    }
    if (!fits) {
      return "failed";
    }
    return delta.acceptStandIn(entry, served, v.vector()) ? "embedded" : "superseded";
  }

  @Override
  public CheckResult check() {
    ThreadPoolExecutor w = worker;
    return w != null && !w.isShutdown() ? CheckResult.OK : CheckResult.failed("not running");
  }

  @Override
  public void close() {
    ThreadPoolExecutor w = worker;
    if (w != null) {
      w.shutdownNow();
      try {
        w.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
