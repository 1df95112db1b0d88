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
import io.visualsearch.indexformat.IndexManifest;
import io.visualsearch.indexformat.ShardVectors;
import io.visualsearch.indexformat.SkuIds;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreException;
import io.visualsearch.pipeline.Outbox;
import io.visualsearch.pipeline.PoisonRecordException;
import io.visualsearch.pipeline.RecordHandler;
import io.visualsearch.pipeline.RetriableProcessingException;
import io.visualsearch.proto.events.IndexPublished;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import io.visualsearch.searchapi.index.IndexLoader;
import io.visualsearch.searchapi.index.LoadedIndex;
import io.visualsearch.searchapi.index.TenantIndexes;
import io.visualsearch.searchapi.similar.SimilarItemsFile;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
 * holds are deleted first. A file it would write again as it is stays untouched ({@link
 * WrittenLedger}), so rerunning for the same version writes nothing new (idempotent), and
 * a publication that is no longer the tenant's CURRENT version is skipped, or abandoned when a newer
 * one replaces it mid-run: a newer one follows, and takes up the writing where this one left off
 * ({@link WriteCursor}).
 */
public final class SimilarItemsJob implements RecordHandler, Component {

  /**
   * Candidates asked of a shard per item listed: products sharing one picture (a dress's sizes)
   * count once, so up to this many of each still leave k items of other pictures.
   */
  static final int SAME_PICTURE_ROOM = 4;
  private static final Logger log = LoggerFactory.getLogger(SimilarItemsJob.class);
  /** Files written at once: one after another, 200,000 products took the store's latency 200,000 times. */
  private static final int WRITERS = 8;
  /** Starts of one publication's job that may end with the process before it is dead-lettered. */
  static final int MAX_STARTS = 3;

  private final ObjectStore store;
  private final IndexLoader loader;
  private final Tracer tracer;
  private final int k;
  private final int batch;
  private final HeapAllowance heap;
  private final NativeAllowance natives;
  private final JobStarts starts;
  private volatile Thread plannedStop;
  private final WriteCursor cursor;
  private final WrittenLedger ledger;
  private final ObjectMapper json = new ObjectMapper();

  /**
   * A job whose per-product data may take {@value HeapAllowance#HEAP_SHARE} of this JVM's maximum
   * heap, and whose shards {@code nativeBytesAllowed} outside it (0: derived from the container's
   * memory, {@link NativeAllowance#of}); {@code scratch}: where the version's files are downloaded
   * to and read from by FAISS.
   */
  public SimilarItemsJob(ObjectStore store, Path scratch, Tracer tracer, int k, int batch, long nativeBytesAllowed) {
    this(store, scratch, tracer, k, batch, HeapAllowance.ofThisJvm(), NativeAllowance.of(nativeBytesAllowed));
  }

  /** With the allowances derived from this JVM and machine. */
  SimilarItemsJob(ObjectStore store, Path scratch, Tracer tracer, int k, int batch) {
    this(store, scratch, tracer, k, batch, 0);
  }

  SimilarItemsJob(ObjectStore store, Path scratch, Tracer tracer, int k, int batch, HeapAllowance heap,
      NativeAllowance natives) {
    this.store = store;
    // Through scratch, not the heap: a shard of hundreds of MB read into a byte[] (several copies
    // while the SDK buffers it) exhausted a 1 GiB heap, and with ExitOnOutOfMemoryError every
    // restart read the same record again.
    // With a quantised shard's exact vectors: they are the vectors the job computes neighbours of.
    this.loader = new IndexLoader(store, scratch);
    this.tracer = tracer;
    this.k = k;
    this.batch = batch;
    this.heap = heap;
    this.natives = natives;
    this.starts = new JobStarts(store, MAX_STARTS);
    this.cursor = new WriteCursor(store);
    this.ledger = new WrittenLedger(store, scratch);
  }

  @Override
  public String name() {
    return "similar-items-job";
  }

  @Override
  public CheckResult check() {
    return CheckResult.OK; // its loop's check says whether it runs
  }

  /**
   * A stop on request: the job in flight is not counted as one that took the process down. The
   * store write runs on a thread of its own: beginStop must return at once (every intake is asked
   * to stop before any drains), and a slow store held the whole stop here.
   */
  @Override
  public void beginStop() {
    Thread takeBack = new Thread(() -> {
      try {
        starts.plannedStop();
      } catch (ObjectStoreException e) {
        log.warn("the running similar-items job's start is still counted (the store did not answer): {}",
            e.getMessage());
      }
    }, "similar-items-planned-stop");
    takeBack.setDaemon(true);
    takeBack.start();
    plannedStop = takeBack;
  }

  /** Waits a little for the take-back begun at the stop; the store call has its own limit. */
  @Override
  public void close() {
    Thread takeBack = plannedStop;
    if (takeBack != null) {
      try {
        takeBack.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
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
      starts.starting(event.getTenant(), event.getIndexVersion());
      try {
        run(event.getTenant(), event.getIndexVersion(), out::progressed);
      } finally {
        ended(event.getTenant(), event.getIndexVersion());
      }
    } catch (CorruptIndexException e) {
      throw new PoisonRecordException("corrupt-index", e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new PoisonRecordException("invalid-publication", e.getMessage(), e);
    } catch (ObjectStoreException e) {
      // Even "access denied" or a skewed clock: the bucket is the deployment's own, so the cause is
      // ours to fix, and dead-lettering meanwhile would leave the version without similar items.
      throw new RetriableProcessingException("object store: " + e.getMessage(), e);
    } catch (UnsupportedOperationException e) {
      // An operator's index factory that keeps only codes and no exact vectors beside them.
      throw new PoisonRecordException("vectors-not-readable", "the version's vectors cannot be read back exactly: "
          + e.getMessage(), e);
    } catch (UncheckedIOException e) {
      // The scratch directory is this instance's own disk (full, not writable): ours to fix, as the bucket.
      throw new RetriableProcessingException("scratch directory: " + e.getMessage(), e);
    }
  }

  private void ended(String tenant, String version) {
    // A job stopped by an interrupt ended too; the store's client would refuse to start a request
    // on an interrupted thread, and the start would be taken for a crash.
    boolean interrupted = Thread.interrupted();
    try {
      starts.ended(tenant, version);
    } catch (ObjectStoreException e) {
      // The job's own outcome matters more; a count left behind only brings its limit closer.
      log.warn("tenant {}: start count of {} not removed: {}", tenant, version, e.getMessage());
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Returns how many products got a file; 0 when the version is not, or stops being, the tenant's
   * CURRENT one.
   */
  public int run(String tenant, String version)
      throws CorruptIndexException, PoisonRecordException, InterruptedException {
    return run(tenant, version, () -> { });
  }

  /**
   * As {@link #run(String, String)}, telling {@code progressed} after each chunk of files written:
   * a run over millions of products takes hours, and its consumer loop would otherwise take it for
   * a handler stuck past {@code KAFKA_MAX_BATCH_TIME}, and restart the service in the middle of it.
   */
  int run(String tenant, String version, Runnable progressed)
      throws CorruptIndexException, PoisonRecordException, InterruptedException {
    if (!stillCurrent(tenant, version)) {
      log.info("tenant {}: {} is no longer the current index, skipping similar items", tenant, version);
      return 0;
    }
    long t0 = System.nanoTime();
    // Judged from the manifest, before any shard is read: loading is what used to exhaust the heap.
    IndexManifest manifest = loader.manifest(tenant, version);
    heap.check(manifest);
    natives.check(manifest);
    TenantIndexes owner = new TenantIndexes(i -> { });
    LoadedIndex index = loader.load(tenant, version);
    owner.install(index);
    ExecutorService writers = Executors.newFixedThreadPool(WRITERS, r -> {
      Thread t = new Thread(r, "similar-items-writer");
      t.setDaemon(true);
      return t;
    });
    try {
      // The vectors the version itself holds (a quantised shard's exact ones), prepared for its
      // space when it was built: exactly what its shards are searched with, whatever the
      // embeddings topic holds now, and read from the tenant's own files, not a replay of every
      // tenant's records.
      Map<String, float[]> bySku = new HashMap<>();
      Span reading = tracer.spanBuilder("read indexed vectors").startSpan();
      try (Scope ignored = reading.makeCurrent()) {
        index.forEachVector(bySku::put);
        reading.setAttribute("vectors", (long) bySku.size());
      } catch (java.io.IOException e) {
        // A quantised shard's exact vectors are read from this instance's scratch disk.
        throw new UncheckedIOException(e);
      } finally {
        reading.end();
      }
      List<String> sorted = new ArrayList<>(bySku.keySet());
      sorted.sort(null);
      if (sorted.size() < index.skuCount()) {
        throw new CorruptIndexException(tenant + "/" + version + ": its shards hold vectors of " + sorted.size()
            + " of the " + index.skuCount() + " products its skus.tsv maps");
      }
      // Before writing: a run overtaken part-way, as every run of a tenant republished faster than
      // its run takes, still removes the files of products gone from the feed.
      long[] listed = new long[sorted.size()];
      int deleted = deleteStale(index, tenant, version, sorted, listed);
      if (deleted < 0) {
        return overtaken(tenant, version, 0);
      }
      long[] marks = ledger.load(tenant, sorted);
      List<String> skus = cursor.order(tenant, sorted);
      int written = 0;
      int kept = 0;
      boolean writing = false;
      try {
        for (int from = 0; from < skus.size(); from += batch) {
          if (Thread.interrupted()) {
            // The service is stopping and its loop gave up waiting: end here, so the start is
            // counted as ended rather than as a crash, and the record is handled again after the restart.
            throw new InterruptedException("stopped after " + written + " similar items files");
          }
          if (!stillCurrent(tenant, version)) {
            return overtaken(tenant, version, written);
          }
          List<String> chunk = skus.subList(from, Math.min(skus.size(), from + batch));
          Map<String, List<SimilarItemsFile.Item>> neighbours = neighbours(index, chunk, bySku);
          List<Future<?>> puts = new ArrayList<>();
          for (String sku : chunk) {
            int at = Collections.binarySearch(sorted, sku);
            // With the product's vector: search-api searches live from it when asked for more items.
            SimilarItemsFile file = new SimilarItemsFile(tenant, sku, version, index.modelVersion(),
                System.currentTimeMillis(), neighbours.get(sku), index.vectorVariant(),
                SimilarItemsFile.encode(bySku.get(sku)), index.modelName());
            byte[] content = json.writeValueAsBytes(file.unversioned());
            if (marks[at] != WrittenLedger.NONE && marks[at] == WrittenLedger.mark(content, listed[at])) {
              kept++; // the file as listed already says this: it keeps the version that first said it
              continue;
            }
            byte[] bytes = json.writeValueAsBytes(file);
            writing = true;
            puts.add(writers.submit(() -> {
              String etag = store.put(SimilarItemsFile.key(tenant, sku), bytes, "application/json");
              marks[at] = WrittenLedger.mark(content, WrittenLedger.etag(etag));
            }));
          }
          written += awaitAll(puts);
          cursor.wrote(tenant, chunk.get(chunk.size() - 1));
          progressed.run();
        }
      } finally {
        if (writing) { // also when a chunk failed part-way: its files written are marked
          saveLedger(tenant, sorted, marks);
        }
      }
      log.info("tenant {}: similar items of {} products from {}: {} written, {} unchanged, {} stale removed, in {} ms",
          tenant, written + kept, version, written, kept, deleted, (System.nanoTime() - t0) / 1_000_000);
      return written + kept;
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("similar items always serialise", e);
    } finally {
      writers.shutdownNow();
      owner.close();
    }
  }

  /**
   * Best effort, also after a failure or an interrupt: a ledger not saved costs the next run the
   * rewrite of what this one wrote, never a file left wrong (its marks are bound to ETags).
   */
  private void saveLedger(String tenant, List<String> sorted, long[] marks) {
    // The store's client refuses to start a request on an interrupted thread.
    boolean interrupted = Thread.interrupted();
    try {
      ledger.save(tenant, sorted, marks);
    } catch (ObjectStoreException | UncheckedIOException e) {
      log.warn("tenant {}: similar-items ledger not saved, the next run writes this one's files again: {}", tenant,
          e.getMessage());
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private boolean stillCurrent(String tenant, String version) throws CorruptIndexException {
    Optional<CurrentPointer> current = loader.current(tenant);
    return current.isPresent() && current.get().version().equals(version);
  }

  private static int overtaken(String tenant, String version, int written) {
    log.info("tenant {}: {} stopped being the current index after {} similar items files; stopping, the newer"
        + " publication's run goes on from there", tenant, version, written);
    return 0;
  }

  /** Whether the version indexes {@code sku}: ids are a function of tenant and sku (SkuIds). */
  private static boolean holds(LoadedIndex index, String tenant, String sku) {
    return sku.equals(index.sku(SkuIds.id(tenant, sku)));
  }

  /**
   * Waits for one chunk's writes; the first failure is thrown once all have ended, so a retry
   * never races writes still in flight.
   */
  private static int awaitAll(List<Future<?>> puts) throws InterruptedException {
    RuntimeException failure = null;
    for (Future<?> f : puts) {
      try {
        f.get();
      } catch (ExecutionException e) {
        if (failure == null) {
          failure = e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
    return puts.size();
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
        int kk = (int) Math.min((long) (k + 1) * SAME_PICTURE_ROOM + (rescore ? ShardVectors.RESCORE_EXTRA_CANDIDATES : 0),
            shard.ntotal());
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
      List<Map.Entry<String, Float>> ranked = best.get(q).entrySet().stream()
          .sorted(Map.Entry.<String, Float>comparingByValue(Comparator.reverseOrder()).thenComparing(Map.Entry::getKey))
          .toList();
      out.put(chunk.get(q), otherPictures(ranked, prepared.get(chunk.get(q)), prepared));
    }
    return out;
  }

  /**
   * The first k of {@code ranked} whose picture is neither the product's own nor one already
   * listed. A feed lists each size of a dress as its own product with the dress's one image: the
   * sizes' vectors are the same vector (an image is embedded once), and the page of size S listed
   * M, L, XL and XXL at 1.0 before any other dress.
   */
  private List<SimilarItemsFile.Item> otherPictures(List<Map.Entry<String, Float>> ranked, float[] own,
      Map<String, float[]> prepared) {
    List<float[]> shown = new ArrayList<>();
    shown.add(own);
    List<SimilarItemsFile.Item> items = new ArrayList<>(k);
    for (Map.Entry<String, Float> e : ranked) {
      float[] picture = prepared.get(e.getKey());
      if (picture != null && shown.stream().anyMatch(s -> Arrays.equals(s, picture))) {
        continue;
      }
      items.add(new SimilarItemsFile.Item(e.getKey(), e.getValue()));
      if (items.size() == k) {
        break;
      }
      shown.add(picture);
    }
    return items;
  }

  /**
   * Deletes the files of products the version does not hold; -1, deleting nothing, when it is no
   * longer CURRENT. Checked after listing: a newer version's run writes only once CURRENT names it,
   * so every file listed before a check that still finds this version predates that run. The
   * listing also gives, in {@code etags}, each kept product's file's ETag by its place in
   * {@code sorted} ({@link WrittenLedger#NONE}: no file).
   */
  private int deleteStale(LoadedIndex index, String tenant, String version, List<String> sorted, long[] etags)
      throws CorruptIndexException {
    String prefix = "similar/" + tenant + "/";
    List<String> stale = new ArrayList<>();
    store.forEachListed(prefix, o -> {
      String key = o.key();
      if (key.equals(JobStarts.key(tenant, version)) || key.equals(WriteCursor.key(tenant))
          || key.equals(WrittenLedger.key(tenant))) {
        return; // this job's own state; another version's start count, left by a job never redelivered, goes
      }
      String sku = skuOf(tenant, prefix, key);
      if (sku == null || !holds(index, tenant, sku)) {
        stale.add(key);
      } else {
        int at = Collections.binarySearch(sorted, sku);
        if (at >= 0) {
          etags[at] = WrittenLedger.etag(o.etag());
        }
      }
    });
    if (!stillCurrent(tenant, version)) {
      return -1;
    }
    stale.forEach(store::delete);
    return stale.size();
  }

  /** The sku whose file {@code key} is, or null for a key no sku's file has. */
  private static String skuOf(String tenant, String prefix, String key) {
    if (!key.endsWith(".json")) {
      return null;
    }
    try {
      String sku = URLDecoder.decode(key.substring(prefix.length(), key.length() - ".json".length()),
          StandardCharsets.UTF_8);
      return SimilarItemsFile.key(tenant, sku).equals(key) ? sku : null;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
