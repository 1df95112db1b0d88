package io.visualsearch.imageindexer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.common.hash.BloomFilter;
import com.google.common.hash.Funnels;
import com.google.common.hash.HashFunction;
import com.google.common.hash.Hashing;
import com.google.common.primitives.Longs;
import com.carrotsearch.hppc.LongLongHashMap;
import com.carrotsearch.hppc.cursors.LongCursor;
import com.google.protobuf.InvalidProtocolBufferException;
import io.visualsearch.imagevalidation.NormalisedImage;
import io.visualsearch.objectstore.ListedObject;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.pipeline.TopicReplay;
import io.visualsearch.proto.events.ImageReady;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import io.visualsearch.topics.Topics;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes the normalised images no product uses any more: {@code images/<sha256>} is shared by
 * content, so no tombstone may delete one, and a replaced or removed picture's copy stayed for
 * good. The images in use are those each product's latest record on {@code images.ready} names
 * (read to its end; a tombstone names none). An image none of them names is deleted once it was
 * last written longer than the grace period ago, by the store's clock; the indexer writes an image
 * a product takes up again once it is half that old ({@link ImageSource}), so an image taken up
 * after the sweep read the topic is young, and is asked about again just before its delete.
 *
 * <p>The last sweep's end is kept in {@value #LAST_SWEEP_KEY}: every replica ticks, and the first
 * to find a sweep due runs it; two running at once delete the same images, which is harmless.
 */
final class ImageSweeper implements Component {

  static final String LAST_SWEEP_KEY = "image-sweep/last.json";
  private static final Logger log = LoggerFactory.getLogger(ImageSweeper.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PREFIX = NormalisedImage.objectKey("");
  /** Share of images no product uses that the reference filter may take for used: they stay one more sweep. */
  private static final double FALSE_KEEPS = 0.001;
  private static final HashFunction KEY_HASH = Hashing.murmur3_128();

  /** What one sweep did; {@code due} false when another sweep ended less than an interval ago. */
  record Outcome(boolean due, long productsInUse, long deleted, long unreferencedYoung, long kept) {}

  private final ObjectStore store;
  private final Supplier<Consumer<byte[], byte[]>> consumers;
  private final Duration interval;
  private final Duration grace;
  private final Duration replayTimeout;
  private final Clock clock;
  private final IndexerMetrics metrics;
  private ScheduledExecutorService ticker;
  private volatile String lastFailure;

  ImageSweeper(ObjectStore store, Supplier<Consumer<byte[], byte[]>> consumers, Duration interval, Duration grace,
      Duration replayTimeout, Clock clock, IndexerMetrics metrics) {
    this.store = store;
    this.consumers = consumers;
    this.interval = interval;
    this.grace = grace;
    this.replayTimeout = replayTimeout;
    this.clock = clock;
    this.metrics = metrics;
  }

  @Override
  public String name() {
    return "image-sweeper";
  }

  /** Ticks every interval (at most every 15 minutes), the first a minute after start; none when the interval is 0. */
  @Override
  public void start() {
    if (interval.isZero()) {
      log.info("unreferenced images are never deleted (IMAGE_SWEEP_INTERVAL is 0)");
      return;
    }
    ticker = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "image-sweeper");
      t.setDaemon(true);
      return t;
    });
    long tick = Math.min(interval.toMillis(), Duration.ofMinutes(15).toMillis());
    ticker.scheduleWithFixedDelay(this::tick, Math.min(tick, Duration.ofMinutes(1).toMillis()), tick,
        TimeUnit.MILLISECONDS);
  }

  private void tick() {
    try {
      sweep();
      lastFailure = null;
    } catch (InterruptedException | org.apache.kafka.common.errors.InterruptException e) {
      Thread.currentThread().interrupt(); // the service stops: the next start's tick sweeps
    } catch (Exception e) {
      // Nothing waits on a sweep: the next tick tries again, and intake goes on meanwhile.
      lastFailure = e.toString();
      log.warn("image sweep failed, the next one tries again: {}", e.toString());
    }
  }

  /** Healthy whatever the sweeps do: intake never waits on them; a failing one is logged and retried. */
  @Override
  public CheckResult check() {
    String failure = lastFailure;
    return failure == null ? CheckResult.OK : new CheckResult(true, "last image sweep failed: " + failure);
  }

  @Override
  public boolean gatesReadiness() {
    return false;
  }

  @Override
  public void close() {
    if (ticker != null) {
      ticker.shutdownNow();
      try {
        ticker.awaitTermination(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** One sweep if one is due: reads the references, then deletes what they do not name and the grace allows. */
  Outcome sweep() throws IOException, InterruptedException {
    Instant started = clock.instant();
    Instant lastEnd = lastSweepEnd();
    if (lastEnd != null && Duration.between(lastEnd, started).compareTo(interval) < 0) {
      return new Outcome(false, 0, 0, 0, 0);
    }
    long t0 = System.nanoTime();
    References refs = references();
    // Images last written before this are old enough to go; the indexer refreshes a re-used one
    // once it is half as old, so an image a product took up after the references were read is younger.
    Instant cutoff = started.minus(grace);
    List<String> unreferencedOld = new ArrayList<>();
    long[] young = {0};
    long[] kept = {0};
    store.forEachListed(PREFIX, (ListedObject o) -> {
      String sha = o.key().substring(PREFIX.length());
      if (refs.mayName(sha)) {
        kept[0]++;
      } else if (o.lastModified().isBefore(cutoff)) {
        unreferencedOld.add(o.key());
      } else {
        young[0]++;
      }
    });
    long deleted = 0;
    for (String key : unreferencedOld) {
      if (Thread.interrupted()) {
        throw new InterruptedException("image sweep stopped after " + deleted + " deletions");
      }
      // Listed as old, but a product may have taken it up since the references were read, refreshing
      // it: asked again just before the delete (a store with conditional deletes would close the
      // moment left between the two; a picture lost in it is downloaded again with its product's
      // next record, and its vector is cached meanwhile).
      if (store.lastModified(key).map(m -> m.isBefore(cutoff)).orElse(false)) {
        store.delete(key);
        deleted++;
        metrics.swept();
      }
    }
    store.put(LAST_SWEEP_KEY, JSON.writeValueAsBytes(Map.of("ended_at_ms", clock.millis(), "deleted", deleted,
        "unreferenced_young", young[0], "referenced_kept", kept[0])), "application/json");
    log.info("image sweep: {} images no product uses deleted (older than {}), {} younger kept, {} in use kept"
        + " ({} products on {}), in {} ms", deleted, grace, young[0], kept[0], refs.products(),
        Topics.IMAGES_READY.name(), (System.nanoTime() - t0) / 1_000_000);
    return new Outcome(true, refs.products(), deleted, young[0], kept[0]);
  }

  private Instant lastSweepEnd() {
    return store.get(LAST_SWEEP_KEY).map(o -> {
      try {
        JsonNode doc = JSON.readTree(o.bytes());
        return doc.has("ended_at_ms") ? Instant.ofEpochMilli(doc.get("ended_at_ms").asLong()) : null;
      } catch (IOException e) {
        return null; // damaged: sweep, and write a readable one
      }
    }).orElse(null);
  }

  /**
   * The image of every product's latest record on images.ready, read to its end a partition at a
   * time (a key is always in one partition, so one partition's keys are held at once), as a filter
   * that never misses one it was given. Products are told apart by a 128-bit hash of their key; two
   * sharing the first half keep both their images.
   */
  private References references() throws IOException {
    long deadline = System.nanoTime() + replayTimeout.toNanos();
    try (Consumer<byte[], byte[]> consumer = consumers.get()) {
      List<TopicPartition> partitions = TopicReplay.partitions(consumer, Topics.IMAGES_READY.name(), replayTimeout);
      BloomFilter<Long> names = BloomFilter.create(Funnels.longFunnel(), Math.max(1_000, records(consumer,
          partitions)), FALSE_KEEPS);
      long inUse = 0;
      for (TopicPartition partition : partitions) {
        LongLongHashMap image = new LongLongHashMap();
        LongLongHashMap check = new LongLongHashMap();
        TopicReplay.toEnd(consumer, List.of(partition), left(deadline), rec -> {
          if (rec.key() == null) {
            imageOf(rec.value()).ifPresent(names::put); // never compacted away, never replaced
            return;
          }
          byte[] h = KEY_HASH.hashBytes(rec.key()).asBytes();
          long first = Longs.fromByteArray(h);
          long second = Longs.fromBytes(h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]);
          if (check.containsKey(first) && check.get(first) != second) {
            names.put(image.get(first));
          }
          Optional<Long> named = imageOf(rec.value());
          if (named.isPresent()) {
            image.put(first, named.get());
            check.put(first, second);
          } else {
            image.remove(first);
            check.remove(first);
          }
        });
        for (LongCursor c : image.values()) {
          names.put(c.value);
        }
        inUse += image.size();
      }
      return new References(names, inUse);
    } catch (TimeoutException e) {
      throw new IOException(e.getMessage() + "; raise " + ImageIndexerSettings.SWEEP_REPLAY_TIMEOUT.env(), e);
    }
  }

  private static Duration left(long deadline) throws TimeoutException {
    long nanos = deadline - System.nanoTime();
    if (nanos <= 0) {
      throw new TimeoutException("reading " + Topics.IMAGES_READY.name() + " took longer than allowed");
    }
    return Duration.ofNanos(nanos);
  }

  /** The image a record names: empty for a tombstone, and for a value that is no ImageReady with a sha256. */
  private static Optional<Long> imageOf(byte[] value) {
    if (value == null) {
      return Optional.empty();
    }
    try {
      String sha = ImageReady.parseFrom(value).getImageSha256();
      return sha.isEmpty() ? Optional.empty() : Optional.of(prefix(sha));
    } catch (InvalidProtocolBufferException e) {
      return Optional.empty(); // the generator dead-letters it; it names no image to keep
    }
  }

  /** Records on the partitions now: the filter's size (at least their distinct images). */
  private long records(Consumer<byte[], byte[]> consumer, List<TopicPartition> partitions) {
    Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions, replayTimeout);
    Map<TopicPartition, Long> end = consumer.endOffsets(partitions, replayTimeout);
    long n = 0;
    for (TopicPartition tp : partitions) {
      n += end.get(tp) - begin.get(tp);
    }
    return n;
  }

  /** The first 64 bits of a sha256 in hex; a key that is no sha256 maps to a value kept for every such key. */
  private static long prefix(String sha) {
    if (sha.length() < 16) {
      return 0;
    }
    try {
      return HexFormat.fromHexDigitsToLong(sha, 0, 16);
    } catch (IllegalArgumentException e) {
      return 0;
    }
  }

  private record References(BloomFilter<Long> names, long products) {
    /** False only for an image no record named; true for every named one, and rarely for another. */
    boolean mayName(String sha) {
      long p = prefix(sha);
      return p == 0 || names.mightContain(p);
    }
  }
}
