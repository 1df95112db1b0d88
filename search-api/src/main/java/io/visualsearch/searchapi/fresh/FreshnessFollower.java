package io.visualsearch.searchapi.fresh;

import com.google.protobuf.InvalidProtocolBufferException;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.indexformat.EmbeddingKeys;
import io.visualsearch.indexformat.ImageKeys;
import io.visualsearch.indexformat.IndexableVectors;
import io.visualsearch.proto.events.Embedding;
import io.visualsearch.proto.events.IndexPublished;
import io.visualsearch.proto.events.ProductUpsert;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import io.visualsearch.searchapi.index.LoadedIndex;
import io.visualsearch.topics.Topics;
import io.visualsearch.tracing.KafkaHeadersCarrier;
import io.visualsearch.tracing.Tracing;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the three topics that keep a search instance current, without a consumer group (every
 * instance needs every record, and nothing is committed):
 * <ul>
 *   <li>{@code catalog.products} from the beginning (compacted: the latest state of every
 *       product) into the {@link CatalogView}; the view counts as caught up once it has read up
 *       to the end offsets the topic had when the service started;</li>
 *   <li>{@code embeddings} from the lowest offset any served manifest has not covered, into each
 *       tenant's {@link FreshDelta}; a newly served version with a lower offset rewinds it;</li>
 *   <li>{@code index.published} from its end, each record telling the swapper to reload a tenant.</li>
 * </ul>
 * Malformed records are counted and skipped: they cannot be dead-lettered from a group-less reader
 * and the pipeline's own consumers already dead-letter them.
 */
public final class FreshnessFollower implements Component {

  /**
   * Told of every vector record of a served tenant once its delta has seen it: it may be of another
   * model than the served index's ({@link RolloutReembedder}).
   */
  @FunctionalInterface
  public interface OtherModelRecords {
    /** Does nothing: records of another model wait for an index of that model. */
    OtherModelRecords WAIT_FOR_INDEX = (delta, entry, imageSha256) -> { };

    /** Called on the follower's thread: must not block. */
    void arrived(FreshDelta delta, DeltaEntry entry, String imageSha256);
  }

  private static final Logger log = LoggerFactory.getLogger(FreshnessFollower.class);
  private static final Duration POLL = Duration.ofMillis(200);
  /** How often the followed topics are asked for partitions added since (from the client's metadata). */
  static final Duration PARTITION_CHECK = Duration.ofSeconds(30);

  private final Supplier<org.apache.kafka.clients.consumer.Consumer<byte[], byte[]>> consumerFactory;
  private final CatalogView catalog;
  private final TenantDeltas deltas;
  private final Supplier<Collection<LoadedIndex>> servedIndexes;
  private final BiConsumer<String, Context> onPublished;
  private final Tracing tracing;
  private final Consumer<Throwable> onDeath;
  private final OtherModelRecords otherModelRecords;
  private final ConcurrentLinkedQueue<Map<Integer, Long>> rewinds = new ConcurrentLinkedQueue<>();
  private final Counter records;
  private final Counter malformed;

  private Duration partitionCheck = PARTITION_CHECK;
  private volatile boolean running;
  private volatile Thread thread;
  private volatile Throwable death;
  private volatile boolean embeddingsCaughtUp;
  private Map<TopicPartition, Long> catalogEnds = Map.of();
  private Map<TopicPartition, Long> embeddingsEnds = Map.of();
  /** The highest offset dispatched per partition, so a rewind's second reading is not traced again. */
  private final Map<TopicPartition, Long> readUpTo = new HashMap<>();

  /**
   * @param onDeath told when the follower stops for good while it should be running (a topic
   *     missing at start, a broker away past the client's timeouts): the service must then stop so
   *     its supervisor restarts it, as a dead {@code ConsumerLoop} stops its service, because
   *     liveness alone would keep an instance that is never ready again
   */
  public FreshnessFollower(Supplier<org.apache.kafka.clients.consumer.Consumer<byte[], byte[]>> consumerFactory,
      CatalogView catalog, TenantDeltas deltas, Supplier<Collection<LoadedIndex>> servedIndexes,
      BiConsumer<String, Context> onPublished, Consumer<Throwable> onDeath, PrometheusRegistry registry,
      Tracing tracing, OtherModelRecords otherModelRecords) {
    this.tracing = tracing;
    this.otherModelRecords = otherModelRecords;
    this.consumerFactory = consumerFactory;
    this.catalog = catalog;
    this.deltas = deltas;
    this.servedIndexes = servedIndexes;
    this.onPublished = onPublished;
    this.onDeath = onDeath;
    this.records = Counter.builder().name("search_freshness_records_total")
        .help("Records read from catalog.products, embeddings and index.published").labelNames("topic")
        .register(registry);
    this.malformed = Counter.builder().name("search_freshness_malformed_total")
        .help("Records skipped because they could not be parsed").labelNames("topic").register(registry);
  }

  @Override
  public String name() {
    return "freshness-follower";
  }

  @Override
  public void start() {
    running = true;
    Thread t = new Thread(this::run, "freshness-follower");
    t.setDaemon(true);
    thread = t;
    t.start();
  }

  /** Asks the follower to re-read embeddings from these offsets (per partition) if it is past them. */
  public void rewindEmbeddings(Map<Integer, Long> offsets) {
    if (offsets != null && !offsets.isEmpty()) {
      rewinds.add(Map.copyOf(offsets));
    }
  }

  private void run() {
    try (org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer = consumerFactory.get()) {
      List<TopicPartition> catalogParts = partitions(consumer, Topics.CATALOG_PRODUCTS.name());
      List<TopicPartition> embeddingParts = partitions(consumer, Topics.EMBEDDINGS.name());
      List<TopicPartition> publishedParts = partitions(consumer, Topics.INDEX_PUBLISHED.name());
      List<TopicPartition> all = new ArrayList<>(catalogParts);
      all.addAll(embeddingParts);
      all.addAll(publishedParts);
      consumer.assign(all);
      consumer.seekToBeginning(catalogParts);
      consumer.seekToEnd(publishedParts);
      catalogEnds = consumer.endOffsets(catalogParts);
      embeddingsEnds = consumer.endOffsets(embeddingParts);
      positionEmbeddings(consumer, embeddingParts);
      long nextPartitionCheck = System.nanoTime() + partitionCheck.toNanos();
      while (running) {
        applyRewinds(consumer);
        if (System.nanoTime() - nextPartitionCheck >= 0) {
          followAddedPartitions(consumer);
          nextPartitionCheck = System.nanoTime() + partitionCheck.toNanos();
        }
        ConsumerRecords<byte[], byte[]> batch = consumer.poll(POLL);
        for (ConsumerRecord<byte[], byte[]> rec : batch) {
          dispatch(rec);
        }
        if (!catalog.caughtUp() && reached(consumer, catalogEnds)) {
          catalog.markCaughtUp();
          log.info("catalog replay complete");
        }
        if (!embeddingsCaughtUp && reached(consumer, embeddingsEnds)) {
          embeddingsCaughtUp = true;
        }
      }
    } catch (Throwable e) {
      if (running) {
        death = e;
        log.error("freshness follower died", e);
        onDeath.accept(e);
      }
    }
  }

  /** For tests: how often to look for added partitions. Before {@link #start}. */
  void checkPartitionsEvery(Duration interval) {
    this.partitionCheck = interval;
  }

  /**
   * Partitions added to a followed topic while this instance runs: keys hash anew, so products move
   * to partitions it did not read, and a product it never saw counts as gone from the feed. Each is
   * read from its start: no served manifest names it, so all of it is newer than every index.
   */
  private void followAddedPartitions(org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer) {
    Set<TopicPartition> assigned = consumer.assignment();
    List<TopicPartition> added = new ArrayList<>();
    try {
      for (String topic : List.of(Topics.CATALOG_PRODUCTS.name(), Topics.EMBEDDINGS.name(),
          Topics.INDEX_PUBLISHED.name())) {
        for (TopicPartition tp : partitions(consumer, topic)) {
          if (!assigned.contains(tp)) {
            added.add(tp);
          }
        }
      }
    } catch (KafkaException e) {
      log.warn("could not list the followed topics' partitions; trying again in {}: {}", partitionCheck,
          e.getMessage());
      return;
    }
    if (added.isEmpty()) {
      return;
    }
    List<TopicPartition> all = new ArrayList<>(assigned);
    all.addAll(added);
    consumer.assign(all); // the partitions already followed keep their positions
    consumer.seekToBeginning(added);
    log.info("following partitions added since the start: {}", added);
  }

  private static List<TopicPartition> partitions(org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> c,
      String topic) {
    List<TopicPartition> out = new ArrayList<>();
    List<PartitionInfo> infos = c.partitionsFor(topic, Duration.ofSeconds(30));
    if (infos == null || infos.isEmpty()) {
      throw new IllegalStateException("topic " + topic + " does not exist");
    }
    for (PartitionInfo p : infos) {
      out.add(new TopicPartition(topic, p.partition()));
    }
    return out;
  }

  /** Starts embeddings where the least advanced served manifest ends, or at the end if none is served. */
  private void positionEmbeddings(org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer,
      List<TopicPartition> parts) {
    consumer.seekToEnd(parts);
    Map<Integer, Long> lowest = new HashMap<>();
    for (LoadedIndex index : servedIndexes.get()) {
      Map<Integer, Long> offsets = index.manifest().embeddingsOffsets();
      if (offsets == null || offsets.isEmpty()) {
        // A manifest that does not say what it covers: replay everything so nothing is missed.
        consumer.seekToBeginning(parts);
        return;
      }
      for (TopicPartition tp : parts) {
        // A partition the manifest does not name had no record when the index was built: all of
        // it is newer than the index (FreshDelta keeps it all too).
        lowest.merge(tp.partition(), offsets.getOrDefault(tp.partition(), 0L), Math::min);
      }
    }
    for (TopicPartition tp : parts) {
      Long o = lowest.get(tp.partition());
      if (o != null) {
        consumer.seek(tp, o);
      }
    }
  }

  private void applyRewinds(org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer) {
    Map<Integer, Long> r;
    while ((r = rewinds.poll()) != null) {
      for (TopicPartition tp : consumer.assignment()) {
        if (!tp.topic().equals(Topics.EMBEDDINGS.name())) {
          continue;
        }
        Long from = r.get(tp.partition());
        if (from == null) {
          // Named by no manifest: it had no record when the index was built, so all of it is
          // newer, as at start-up. A tenant's first version (its records were not kept before) or a
          // change of vector space (the delta dropped its vectors) needs it read again.
          consumer.seekToBeginning(List.of(tp));
        } else if (consumer.position(tp) > from) {
          consumer.seek(tp, from);
        }
      }
    }
  }

  private static boolean reached(org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer,
      Map<TopicPartition, Long> ends) {
    for (var e : ends.entrySet()) {
      if (consumer.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  void dispatch(ConsumerRecord<byte[], byte[]> rec) {
    records.labelValues(rec.topic()).inc();
    String key = rec.key() == null ? "" : new String(rec.key(), StandardCharsets.UTF_8);
    // Headers read for live records only: a start-up replay reads millions.
    boolean live = live(rec);
    Context parent = live || rec.topic().equals(Topics.INDEX_PUBLISHED.name())
        ? tracing.propagator().extract(Context.root(), rec.headers(), KafkaHeadersCarrier.GETTER) : Context.root();
    Span span = live && Span.fromContext(parent).getSpanContext().isValid()
        ? tracing.tracer().spanBuilder(rec.topic() + " follow").setParent(parent).setSpanKind(SpanKind.CONSUMER)
            .setAttribute("messaging.destination.name", rec.topic())
            .setAttribute("messaging.kafka.message.key", key)
            .setAttribute("messaging.kafka.message.offset", rec.offset()).startSpan()
        : Span.getInvalid();
    try (Scope ignored = span.makeCurrent()) {
      if (rec.topic().equals(Topics.CATALOG_PRODUCTS.name())) {
        catalogRecord(key, rec.value());
      } else if (rec.topic().equals(Topics.EMBEDDINGS.name())) {
        span.setAttribute("fresh_delta.applied", embeddingRecord(key, rec));
      } else if (rec.topic().equals(Topics.INDEX_PUBLISHED.name()) && rec.value() != null) {
        onPublished.accept(IndexPublished.parseFrom(rec.value()).getTenant(), parent);
      }
    } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
      malformed.labelValues(rec.topic()).inc();
      span.recordException(e);
      span.setStatus(StatusCode.ERROR, "malformed record");
      log.warn("skipping malformed {} record at {}-{}: {}", rec.topic(), rec.partition(), rec.offset(), e.getMessage());
    } finally {
      span.end();
    }
  }

  /**
   * Whether a record arrives as it is written, past the start-up replay, and for the first time
   * (not re-read by a rewind): only those are traced, as the step that made a product searchable
   * (or its change visible) on this instance. A replay would add a span to every product's old
   * trace at each restart. Called on the follower thread only.
   */
  private boolean live(ConsumerRecord<byte[], byte[]> rec) {
    TopicPartition tp = new TopicPartition(rec.topic(), rec.partition());
    boolean first = rec.offset() > readUpTo.getOrDefault(tp, -1L);
    if (first) {
      readUpTo.put(tp, rec.offset());
    }
    if (rec.topic().equals(Topics.CATALOG_PRODUCTS.name())) {
      return first && catalog.caughtUp();
    }
    return first && (!rec.topic().equals(Topics.EMBEDDINGS.name()) || embeddingsCaughtUp);
  }

  private void catalogRecord(String key, byte[] value) throws InvalidProtocolBufferException {
    int slash = key.indexOf('/');
    if (value == null) {
      if (slash > 0) {
        catalog.remove(key.substring(0, slash), key.substring(slash + 1));
      }
      return;
    }
    if (slash <= 0) {
      throw new IllegalArgumentException("product record whose key is not <tenant>/<sku>");
    }
    String tenant = key.substring(0, slash);
    String sku = key.substring(slash + 1);
    ProductUpsert upsert = ProductUpsert.parseFrom(value);
    // The key names the product, as for its deletion: a payload naming another tenant's product
    // would overwrite that tenant's title and price (counted malformed, skipped).
    if (!EmbeddingKeys.agrees(upsert.getTenant(), tenant) || !EmbeddingKeys.agrees(upsert.getProduct().getId(), sku)) {
      throw new IllegalArgumentException("product record keyed " + key + " names tenant '" + upsert.getTenant()
          + "', id '" + upsert.getProduct().getId() + "'");
    }
    catalog.upsert(tenant, ProductInfo.of(sku, upsert.getProduct()));
  }

  /** Whether the record reached a served tenant's delta (a vector now searchable, or a deletion applied). */
  private boolean embeddingRecord(String key, ConsumerRecord<byte[], byte[]> rec) throws InvalidProtocolBufferException {
    int slash = key.indexOf('/');
    if (rec.value() == null) {
      if (slash > 0) {
        FreshDelta delta = deltas.of(key.substring(0, slash));
        if (delta != null) {
          delta.accept(new DeltaEntry(key.substring(slash + 1), rec.partition(), rec.offset(), "", 0, null, 0));
          return true;
        }
      }
      return false;
    }
    if (slash <= 0) {
      return false;
    }
    String tenant = key.substring(0, slash);
    String sku = key.substring(slash + 1);
    Embedding e = Embedding.parseFrom(rec.value());
    FreshDelta delta = deltas.of(tenant);
    if (delta == null || !EmbeddingKeys.agrees(e.getTenant(), tenant) || !EmbeddingKeys.agrees(e.getSku(), sku)) {
      return false;
    }
    float[] v = new float[e.getVectorCount()];
    for (int i = 0; i < v.length; i++) {
      v[i] = e.getVector(i);
    }
    if (IndexableVectors.refusal(v) != null) {
      // The index-builder dead-letters it and keeps the product's previous vector: so does the delta.
      return false;
    }
    DeltaEntry entry = new DeltaEntry(sku, rec.partition(), rec.offset(), e.getModelName(), e.getModelVersion(),
        e.getSignature(), e.getVectorVariant(), v, ImageKeys.of(e.getImageSha256()));
    delta.accept(entry);
    otherModelRecords.arrived(delta, entry, e.getImageSha256());
    return true;
  }

  public boolean embeddingsCaughtUp() {
    return embeddingsCaughtUp;
  }

  @Override
  public CheckResult check() {
    Throwable d = death;
    if (d != null) {
      return CheckResult.failed(d);
    }
    Thread t = thread;
    if (t == null || !t.isAlive()) {
      return CheckResult.failed("not running");
    }
    if (!catalog.caughtUp()) {
      return CheckResult.failed("replaying " + Topics.CATALOG_PRODUCTS.name());
    }
    // Until then the deltas lack changes the served indexes do not hold: answers would return
    // pictures replaced since the build, and products deleted since.
    if (!embeddingsCaughtUp) {
      return CheckResult.failed("replaying " + Topics.EMBEDDINGS.name());
    }
    // Full deltas do not make the instance unready: it answers every tenant, only without the
    // changes of those tenants past their share until their next index.
    List<String> full = deltas.full();
    return full.isEmpty() ? CheckResult.OK : new CheckResult(true, "fresh deltas full for " + full + " ("
        + "at least " + deltas.vectorFloorNow() + " vectors each, more while others leave room,"
        + " SEARCH_FRESH_DELTA_MAX_VECTORS): their further changes wait for"
        + " their next index; deletions still apply");
  }

  @Override
  public void close() {
    running = false;
    Thread t = thread;
    if (t != null) {
      try {
        t.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
