package io.visualsearch.responseconsumer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.InvalidProtocolBufferException;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.visualsearch.faiss.FaissIndex;
import io.visualsearch.faiss.SearchResult;
import io.visualsearch.indexformat.CorruptIndexException;
import io.visualsearch.indexformat.CurrentPointer;
import io.visualsearch.indexformat.ShardVectors;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreException;
import io.visualsearch.pipeline.Outbox;
import io.visualsearch.pipeline.PoisonRecordException;
import io.visualsearch.pipeline.RecordHandler;
import io.visualsearch.pipeline.RetriableProcessingException;
import io.visualsearch.proto.events.IndexPublished;
import io.visualsearch.searchapi.index.IndexLoader;
import io.visualsearch.searchapi.index.LoadedIndex;
import io.visualsearch.searchapi.index.TenantIndexes;
import io.visualsearch.searchapi.similar.SimilarItemsFile;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * After each index publication, precomputes every product's nearest other products from that
 * version and writes {@code similar/<tenant>/<sku>.json}; files of products the version no longer
 * holds are deleted. Rerunning for the same version rewrites the same files (idempotent), and a
 * publication that is no longer the tenant's CURRENT version is skipped: a newer one follows.
 */
public final class SimilarItemsJob implements RecordHandler {

  private static final Logger log = LoggerFactory.getLogger(SimilarItemsJob.class);
  /** Files written at once: one after another, 200,000 products took the store's latency 200,000 times. */
  private static final int WRITERS = 8;
  /** The map entry, the sku and the array header beside each vector's floats. */
  private static final long BYTES_PER_PRODUCT_BESIDE_VECTOR = 160;
  /** Of the heap, what the vectors may take: the rest is the loaded shards' Java side, JSON and Kafka. */
  private static final double HEAP_SHARE = 0.6;

  private final ObjectStore store;
  private final IndexLoader loader;
  private final TenantVectorReader vectors;
  private final Tracer tracer;
  private final int k;
  private final int batch;
  private final long vectorBytesAllowed;
  private final ObjectMapper json = new ObjectMapper();

  /** A job whose vectors may take {@value #HEAP_SHARE} of this JVM's maximum heap. */
  public SimilarItemsJob(ObjectStore store, TenantVectorReader vectors, Tracer tracer, int k, int batch) {
    this(store, vectors, tracer, k, batch, (long) (Runtime.getRuntime().maxMemory() * HEAP_SHARE));
  }

  /** {@code vectorBytesAllowed}: the most a run's vectors may take on the heap. */
  SimilarItemsJob(ObjectStore store, TenantVectorReader vectors, Tracer tracer, int k, int batch,
      long vectorBytesAllowed) {
    this.store = store;
    this.loader = new IndexLoader(store);
    this.vectors = vectors;
    this.tracer = tracer;
    this.k = k;
    this.batch = batch;
    this.vectorBytesAllowed = vectorBytesAllowed;
  }

  @Override
  public void handle(ConsumerRecord<byte[], byte[]> record, Outbox out) throws Exception {
    if (record.value() == null) {
      return;
    }
    IndexPublished event;
    try {
      event = IndexPublished.parseFrom(record.value());
    } catch (InvalidProtocolBufferException e) {
      throw new PoisonRecordException("malformed-payload", "not an IndexPublished: " + e.getMessage(), e);
    }
    try {
      run(event.getTenant(), event.getIndexVersion());
    } catch (CorruptIndexException e) {
      throw new PoisonRecordException("corrupt-index", e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new PoisonRecordException("invalid-publication", e.getMessage(), e);
    } catch (ObjectStoreException e) {
      if (e.retriable()) {
        throw new RetriableProcessingException("object store unavailable: " + e.getMessage(), e);
      }
      throw e;
    } catch (TenantVectorReader.ReplayStalledException e) {
      throw new RetriableProcessingException(e.getMessage(), e);
    }
  }

  /** Returns how many products got a file (0 when the version is no longer current). */
  public int run(String tenant, String version) throws CorruptIndexException, PoisonRecordException {
    Optional<CurrentPointer> current = loader.current(tenant);
    if (current.isEmpty() || !current.get().version().equals(version)) {
      log.info("tenant {}: {} is no longer the current index, skipping similar items", tenant, version);
      return 0;
    }
    long t0 = System.nanoTime();
    TenantIndexes owner = new TenantIndexes(i -> { });
    LoadedIndex index = loader.load(tenant, version);
    owner.install(index);
    ExecutorService writers = Executors.newFixedThreadPool(WRITERS, r -> {
      Thread t = new Thread(r, "similar-items-writer");
      t.setDaemon(true);
      return t;
    });
    try {
      checkHeap(tenant, version, index);
      Map<String, float[]> bySku = vectors.read(tenant, index.modelVersion(), index.manifest().embeddingsOffsets() == null
          ? Map.of() : index.manifest().embeddingsOffsets());
      // Prepared once (normalised for a cosine index): each vector is then a query once and a
      // rescored candidate of ~k + 17 other queries without being normalised again.
      bySku.replaceAll((sku, v) -> v.length == index.dimension() ? index.space().prepare(v) : v);
      List<String> skus = new ArrayList<>();
      for (String sku : bySku.keySet()) {
        if (bySku.get(sku).length == index.dimension()) {
          skus.add(sku);
        }
      }
      skus.sort(null);
      int written = 0;
      for (int from = 0; from < skus.size(); from += batch) {
        List<String> chunk = skus.subList(from, Math.min(skus.size(), from + batch));
        Map<String, List<SimilarItemsFile.Item>> neighbours = neighbours(index, chunk, bySku);
        List<Future<?>> puts = new ArrayList<>();
        for (String sku : chunk) {
          SimilarItemsFile file = new SimilarItemsFile(tenant, sku, version, index.modelVersion(),
              System.currentTimeMillis(), neighbours.get(sku));
          byte[] bytes = json.writeValueAsBytes(file);
          puts.add(writers.submit(() -> store.put(SimilarItemsFile.key(tenant, sku), bytes, "application/json")));
        }
        written += awaitAll(puts);
      }
      int deleted = deleteStale(tenant, new HashSet<>(skus));
      log.info("tenant {}: similar items of {} products from {} written, {} stale removed, in {} ms", tenant, written,
          version, deleted, (System.nanoTime() - t0) / 1_000_000);
      return written;
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("similar items always serialise", e);
    } finally {
      writers.shutdownNow();
      owner.close();
    }
  }

  /**
   * Waits for one chunk's writes; the first failure is thrown once all have ended, so a retry
   * never races writes still in flight.
   */
  private static int awaitAll(List<Future<?>> puts) {
    RuntimeException failure = null;
    for (Future<?> f : puts) {
      try {
        f.get();
      } catch (ExecutionException e) {
        if (failure == null) {
          failure = e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while writing similar items", e);
      }
    }
    if (failure != null) {
      throw failure;
    }
    return puts.size();
  }

  /**
   * The job holds the version's vectors on the heap while it runs; a catalog they do not fit is
   * refused with the size it needs instead of failing the whole service with OutOfMemoryError,
   * which would also stop archiving answers and repeat at every restart.
   */
  private void checkHeap(String tenant, String version, LoadedIndex index) throws PoisonRecordException {
    long needed = index.skuCount() * (4L * index.dimension() + BYTES_PER_PRODUCT_BESIDE_VECTOR);
    if (needed > vectorBytesAllowed) {
      throw new PoisonRecordException("catalog-exceeds-heap", "similar items of " + tenant + "/" + version + " need ~"
          + mib(needed) + " MiB of heap for " + index.skuCount() + " vectors of " + index.dimension()
          + " dimensions; this instance allows them " + mib(vectorBytesAllowed) + " MiB (" + (int) (HEAP_SHARE * 100)
          + " % of its " + mib(Runtime.getRuntime().maxMemory()) + " MiB heap): give response-consumer more memory and"
          + " replay this record from the dead-letter topic");
    }
  }

  private static long mib(long bytes) {
    return (bytes + (1 << 20) - 1) >> 20;
  }

  /** The k nearest of each product of {@code chunk}; {@code prepared} holds every vector prepared for the index. */
  private Map<String, List<SimilarItemsFile.Item>> neighbours(LoadedIndex index, List<String> chunk,
      Map<String, float[]> prepared) {
    int d = index.dimension();
    float[] queries = new float[chunk.size() * d];
    for (int i = 0; i < chunk.size(); i++) {
      System.arraycopy(prepared.get(chunk.get(i)), 0, queries, i * d, d);
    }
    List<Map<String, Float>> best = new ArrayList<>();
    for (int i = 0; i < chunk.size(); i++) {
      best.add(new HashMap<>());
    }
    Span span = tracer.spanBuilder("similar items batch").setAttribute("queries", chunk.size()).startSpan();
    try (Scope ignored = span.makeCurrent()) {
      for (int s = 0; s < index.shards().size(); s++) {
        FaissIndex shard = index.shards().get(s);
        // A quantised shard's candidates are rescored on the vectors this job already holds, from
        // a wider list, as search-api rescores on the shard's exact vectors.
        boolean rescore = index.manifest().shards().get(s).exactVectors() != null;
        int kk = (int) Math.min(k + 1 + (rescore ? ShardVectors.RESCORE_EXTRA_CANDIDATES : 0), shard.ntotal());
        if (kk == 0) {
          continue;
        }
        SearchResult r = shard.search(queries, kk);
        for (int q = 0; q < chunk.size(); q++) {
          for (int rank = 0; rank < kk; rank++) {
            long id = r.id(q, rank);
            String other = id < 0 ? null : index.sku(id);
            if (other != null && !other.equals(chunk.get(q))) {
              float[] vector = rescore ? prepared.get(other) : null;
              float score = vector != null && vector.length == d
                  ? index.space().exactScore(prepared.get(chunk.get(q)), vector)
                  : index.space().score(r.distance(q, rank));
              best.get(q).merge(other, score, Math::max);
            }
          }
        }
      }
    } finally {
      span.end();
    }
    Map<String, List<SimilarItemsFile.Item>> out = new HashMap<>();
    for (int q = 0; q < chunk.size(); q++) {
      out.put(chunk.get(q), best.get(q).entrySet().stream()
          .sorted(Map.Entry.<String, Float>comparingByValue(Comparator.reverseOrder()).thenComparing(Map.Entry::getKey))
          .limit(k).map(e -> new SimilarItemsFile.Item(e.getKey(), e.getValue())).toList());
    }
    return out;
  }

  private int deleteStale(String tenant, Set<String> keep) {
    Set<String> keepKeys = new HashSet<>();
    for (String sku : keep) {
      keepKeys.add(SimilarItemsFile.key(tenant, sku));
    }
    int deleted = 0;
    for (String key : store.list("similar/" + tenant + "/")) {
      if (!keepKeys.contains(key)) {
        store.delete(key);
        deleted++;
      }
    }
    return deleted;
  }
}
