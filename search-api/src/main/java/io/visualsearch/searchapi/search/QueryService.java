package io.visualsearch.searchapi.search;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreException;
import io.visualsearch.objectstore.StoredObject;
import io.visualsearch.searchapi.ApiException;
import io.visualsearch.searchapi.embed.QueryEmbedder;
import io.visualsearch.searchapi.fresh.CatalogView;
import io.visualsearch.searchapi.fresh.FreshDelta;
import io.visualsearch.searchapi.fresh.ProductInfo;
import io.visualsearch.searchapi.fresh.TenantDeltas;
import io.visualsearch.searchapi.http.Admission;
import io.visualsearch.searchapi.http.UploadBudget;
import io.visualsearch.searchapi.image.QueryImageDecoder;
import io.visualsearch.searchapi.index.IndexLease;
import io.visualsearch.searchapi.index.LoadedIndex;
import io.visualsearch.searchapi.index.TenantIndexes;
import io.visualsearch.searchapi.similar.SimilarItemsFile;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * The query path shared by HTTP and gRPC: decode → embed → search shards and delta → publish.
 * Holds a lease on the tenant's index version from before the model call until the answer is
 * built, so a swap in the middle of a query changes nothing for that query.
 */
public final class QueryService {

  private static final int NO_INDEX_RETRY_SECONDS = 30;
  private static final int SERVE_ATTEMPTS = 3;

  private final TenantIndexes indexes;
  private final TenantDeltas deltas;
  private final CatalogView catalog;
  private final QueryImageDecoder decoder;
  private final QueryEmbedder embedder;
  private final IndexSearcher searcher;
  private final ResponsePublisher publisher;
  private final ObjectStore store;
  private final Tracer tracer;
  private final ObjectMapper json = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  /**
   * Precomputed similar items read from the store at once. They take no search slot, but each holds
   * a request thread while the store answers: a slow store must not take every thread from visual
   * search, whose queries never touch the store.
   */
  static final int MAX_STORE_READS = 8;

  /**
   * Of those, one tenant's at most: half, the share it gets of uploads and gRPC calls. Without it
   * one tenant's similar-items traffic (or its slow prefix of the store) held all eight, and every
   * other tenant's similar items were refused 503 while it lasted.
   */
  static final int MAX_STORE_READS_PER_TENANT = (int) (MAX_STORE_READS * UploadBudget.TENANT_SHARE);

  private final Admission storeReads =
      Admission.withoutQueue("similar-items reads", MAX_STORE_READS, MAX_STORE_READS_PER_TENANT);

  public QueryService(TenantIndexes indexes, TenantDeltas deltas, CatalogView catalog, QueryImageDecoder decoder,
      QueryEmbedder embedder, IndexSearcher searcher, ResponsePublisher publisher, ObjectStore store, Tracer tracer) {
    this.indexes = indexes;
    this.deltas = deltas;
    this.catalog = catalog;
    this.decoder = decoder;
    this.embedder = embedder;
    this.searcher = searcher;
    this.publisher = publisher;
    this.store = store;
    this.tracer = tracer;
  }

  /**
   * Answers a search; the current span (the transport's request span) is the parent of every step.
   * The transport runs {@link Answered#afterSent} once the answer is sent, which publishes it to
   * {@code search.responses} under the same trace.
   */
  public Answered search(String tenant, SearchQuery query) {
    long t0 = System.nanoTime();
    BufferedImage image;
    Span decode = tracer.spanBuilder("decode image").setAttribute("bytes", query.image().length).startSpan();
    try (Scope ignored = decode.makeCurrent()) {
      image = decoder.decode(query.image(), query.crop());
      decode.setAttribute("width", image.getWidth()).setAttribute("height", image.getHeight());
    } catch (ApiException e) {
      decode.setAttribute("error", e.code());
      throw e;
    } finally {
      decode.end();
    }
    try (Served served = serve(tenant)) {
      LoadedIndex index = served.lease().index();
      QueryEmbedder.QueryVector vector;
      Span embed = tracer.spanBuilder("embed query").startSpan();
      try (Scope ignored = embed.makeCurrent()) {
        vector = embedder.embed(image, index.modelName(), index.modelVersion(), index.signature(),
            index.vectorVariant());
        embed.setAttribute("model.version", vector.modelVersion());
      } finally {
        embed.end();
      }
      checkModel(index, vector);
      SearchAnswer answer = searchIndex(index, served.delta(), vector.vector(), query.k(), query.filters(), null);
      long latencyMicros = (System.nanoTime() - t0) / 1000;
      Context request = Context.current();
      // Chosen here and answered to the client: the archive's key, which it had no way to know.
      String requestId = UUID.randomUUID().toString();
      return new Answered(answer, () -> {
        try (Scope ignored = request.makeCurrent()) {
          publisher.publish(tenant, requestId, query, answer, latencyMicros);
        }
      }, requestId);
    }
  }

  /**
   * Where a product's similar items come from.
   *
   * @param live whether {@link #liveSimilar} must search them (in a search slot): the product's
   *     vector changed since its file was computed, or more items are asked than the file holds
   * @param file the precomputed answer (null when the product's vector changed since): the answer
   *     when not live, and what a live search falls back to when it cannot run
   * @param fileVector the product's vector from its file, for a live search when no fresher one exists
   * @param fileVariant the vector variant of the index the file was computed from (null: not recorded)
   * @param fileModel the model of the index the file was computed from (null: not recorded)
   */
  public record SimilarPlan(boolean live, SearchAnswer file, float[] fileVector, String fileVariant,
      String fileModel) {

    static SimilarPlan stored(SearchAnswer file) {
      return new SimilarPlan(false, file, null, null, null);
    }

    static SimilarPlan fresh() {
      return new SimilarPlan(true, null, null, null, null);
    }
  }

  /**
   * Reads a product's precomputed similar items and decides whether they answer: not when its
   * vector changed since they were computed, nor when more are asked than the file holds, or than
   * {@code filters} leave of it (then a live search from the file's vector answers, filtered). Needs no search slot, and reads the store without
   * holding the index: a slow store must neither take the slots sized for model and FAISS work
   * from visual search, nor keep a retired version's native memory.
   */
  public SimilarPlan planSimilar(String tenant, String sku, int k, Filters filters) {
    if (catalog.caughtUp() && catalog.get(tenant, sku) == null) {
      throw ApiException.notFound("unknown_product", "no product '" + sku + "' in this catalog");
    }
    FreshDelta.Snapshot delta;
    try (Served served = serve(tenant)) {
      delta = served.delta();
    }
    if (delta.vectorOf(sku) != null) {
      return SimilarPlan.fresh();
    }
    Optional<StoredItems> file;
    try (Admission.Permit ignored = storeReads.enter(tenant)) {
      file = precomputed(tenant, sku, k, filters, delta.hidden());
    }
    if (delta.newerThanFile(sku, file.map(f -> f.answer().indexVersion()).orElse(null)) != null) {
      // Its picture changed (or it is new) since these files were computed: the index swapped in
      // meanwhile took its vector from the delta, and the files of that version are not written yet.
      return SimilarPlan.fresh();
    }
    StoredItems stored = file.orElseThrow(() -> ApiException.notFound("similar_not_available",
        "similar items of '" + sku + "' are not computed yet; they appear after the next index publication"));
    float[] vector = stored.answer().hits().size() < k ? stored.file().decodedVector() : null;
    if (vector != null) {
      // More asked than the file holds (its list is SIMILAR_ITEMS_K long, less what left the catalog
      // since and what the filters leave out).
      return new SimilarPlan(true, stored.answer(), vector, stored.file().vectorVariant(), stored.file().modelName());
    }
    return SimilarPlan.stored(stored.answer());
  }

  /**
   * Similar items searched live, in a search slot: from the product's fresh vector (in the delta,
   * or taken into the index since and newer than its precomputed files), else from its file's
   * vector when that fits the served index; else the file's own answer.
   */
  public SearchAnswer liveSimilar(String tenant, String sku, int k, Filters filters, SimilarPlan plan) {
    try (Served served = serve(tenant)) {
      LoadedIndex index = served.lease().index();
      float[] vector = served.delta().vectorOf(sku);
      if (vector == null) {
        vector = served.delta().absorbedVectorOf(sku);
      }
      // The file's vector is of the served index's space when it was computed from that very index,
      // or from one of the same model (name, version and variant, which holds the signature). Two
      // models' versions both count from 1, so a file naming no model (written before the name was
      // kept) counts only for its own index: else its own answer.
      if (vector == null && plan.fileVector() != null && plan.fileVector().length == index.dimension()
          && (index.version().equals(plan.file().indexVersion()) || plan.fileModel() != null
              && index.fitsModel(plan.fileModel(), plan.file().modelVersion(), null, plan.fileVariant()))) {
        vector = plan.fileVector();
      }
      if (vector != null) {
        return searchIndex(index, served.delta(), vector, k, filters, sku);
      }
    }
    if (plan.file() != null) {
      return plan.file();
    }
    // A version holding the change was installed meanwhile: its precomputed files are current.
    SimilarPlan again = planSimilar(tenant, sku, k, filters);
    if (again.file() == null) {
      throw ApiException.notFound("similar_not_available", "similar items of '" + sku + "' are being recomputed;"
          + " retry shortly");
    }
    return again.file();
  }

  /**
   * A similar-items file as read, and its answer for the asking query; the product's vector stays
   * encoded until a request asks for more than the answer holds.
   */
  private record StoredItems(SearchAnswer answer, SimilarItemsFile file) {}

  private Optional<StoredItems> precomputed(String tenant, String sku, int k, Filters filters, Set<String> hidden) {
    Span span = tracer.spanBuilder("read precomputed similar").startSpan();
    try (Scope ignored = span.makeCurrent()) {
      Optional<StoredObject> o = store.get(SimilarItemsFile.key(tenant, sku));
      span.setAttribute("found", o.isPresent());
      if (o.isEmpty()) {
        return Optional.empty();
      }
      SimilarItemsFile file = json.readValue(o.get().bytes(), SimilarItemsFile.class);
      String problem = file == null ? "it is JSON null" : file.problem();
      if (problem != null) {
        throw new IOException(SimilarItemsFile.key(tenant, sku) + ": " + problem);
      }
      List<SearchHit> hits = new ArrayList<>();
      for (SimilarItemsFile.Item item : file.results() == null ? List.<SimilarItemsFile.Item>of() : file.results()) {
        if (hits.size() >= k) {
          break;
        }
        if (item.sku().equals(sku) || hidden.contains(item.sku())) {
          continue;
        }
        ProductInfo p = catalog.get(tenant, item.sku());
        if (p == null && (catalog.caughtUp() || !filters.isEmpty()) || p != null && !filters.matches(p)) {
          continue;
        }
        hits.add(new SearchHit(item.sku(), item.score(),
            p != null ? p : new ProductInfo(item.sku(), "", 0, "", "", "", "", "", "")));
      }
      return Optional.of(new StoredItems(new SearchAnswer(hits, file.indexVersion(), file.modelVersion(), 0), file));
    } catch (IOException e) {
      throw new ApiException(500, "corrupt_similar_items", "the stored similar items of this product are unreadable",
          null, e);
    } catch (ObjectStoreException e) {
      throw ApiException.unavailable("store_unavailable", "the object store is unavailable, retry shortly", 2, e);
    } finally {
      span.end();
    }
  }

  private SearchAnswer searchIndex(LoadedIndex index, FreshDelta.Snapshot snapshot, float[] vector, int k,
      Filters filters, String exclude) {
    try {
      return searcher.search(index, snapshot, vector, k, filters, exclude);
    } catch (IndexSearcher.DimensionMismatchException e) {
      throw ApiException.unavailable("model_index_mismatch",
          "the model's vectors do not fit the served index; an index for the current model is being built", 30, e);
    }
  }

  /**
   * A leased version and its fresh delta as of the lease, for one query. Copied at once, not after
   * the model call: a swap meanwhile adopts the new version's floor and drops the records it holds,
   * which the leased version lacks (a changed product would be answered with its old picture, a
   * new one missed). Of the leased version, not the newest installed: a swap to another model
   * while the query is embedded must not put that model's vectors beside the query's.
   */
  private record Served(IndexLease lease, FreshDelta.Snapshot delta) implements AutoCloseable {
    @Override
    public void close() {
      lease.close();
    }
  }

  private Served serve(String tenant) {
    for (int attempt = 1; ; attempt++) {
      IndexLease lease = lease(tenant);
      Optional<FreshDelta.Snapshot> copy;
      try {
        FreshDelta delta = deltas.of(tenant);
        // A swap landing between the lease and the copy leaves none: lease again, the adopted version.
        // Swaps in a row faster than this loop answer from what the delta still holds.
        copy = delta == null ? Optional.of(FreshDelta.Snapshot.EMPTY)
            : attempt == SERVE_ATTEMPTS ? Optional.of(delta.snapshot(lease.index()))
            : delta.completeSnapshot(lease.index());
      } catch (RuntimeException | Error e) {
        lease.close();
        throw e;
      }
      if (copy.isPresent()) {
        return new Served(lease, copy.get());
      }
      lease.close();
    }
  }

  private IndexLease lease(String tenant) {
    return indexes.acquire(tenant).orElseThrow(() -> ApiException.unavailable("index_not_ready",
        "no index of this catalog is served yet (none is published, or this instance is still loading it)",
        NO_INDEX_RETRY_SECONDS, null));
  }

  /**
   * One answer never mixes models: a query vector of another model, model version, or signature
   * of it (another layer, possibly of the same dimension), cannot search this index.
   */
  private static void checkModel(LoadedIndex index, QueryEmbedder.QueryVector v) {
    if (!index.fitsModelName(v.modelName())) {
      // Version numbers start again at 1 for every model: only the name tells two models apart.
      throw ApiException.unavailable("model_index_mismatch", "queries are embedded with model '" + v.modelName()
          + "' but the catalog index was built with model '" + index.modelName() + "'; search-api's MODEL_NAME must"
          + " name the model the embeddings-generator uses; retry after the rebuild", 30, null);
    }
    if (index.modelVersion() != 0 && v.modelVersion() != 0 && index.modelVersion() != v.modelVersion()) {
      throw ApiException.unavailable("model_index_mismatch", "the model serves version " + v.modelVersion()
          + " but the catalog index was built with version " + index.modelVersion() + "; retry after the rebuild",
          30, null);
    }
    if (!index.fitsSignature(v.signature())) {
      throw ApiException.unavailable("model_index_mismatch", "queries are embedded with signature '" + v.signature()
          + "' but the catalog index was built with '" + index.signature() + "'; retry after the rebuild", 30, null);
    }
    if (!index.fitsVariant(v.variant())) {
      throw ApiException.unavailable("model_index_mismatch", "queries are embedded as '" + v.variant()
          + "' but the catalog index was built as '" + index.vectorVariant() + "' (signature, output, image size);"
          + " search-api's MODEL_* settings must match the embeddings-generator's; retry after the rebuild", 30, null);
    }
  }
}
