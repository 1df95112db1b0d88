package io.visualsearch.responseconsumer;

import com.google.protobuf.InvalidProtocolBufferException;
import io.visualsearch.indexformat.EmbeddingKeys;
import io.visualsearch.indexformat.IndexableVectors;
import io.visualsearch.proto.events.Embedding;
import io.visualsearch.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * The vectors an index version was built from: the compacted embeddings topic replayed up to the
 * offsets its manifest covers, keeping a tenant's latest vector per product of the index's model
 * version. FAISS files cannot give vectors back through our binding, and the topic is the source
 * the builder itself read, so the precomputed neighbours are those of exactly the indexed vectors.
 */
public final class TenantVectorReader {

  private static final Duration POLL = Duration.ofMillis(500);
  /** How long the replay may make no progress at all: a topic of any size is read, a dead one is not waited on. */
  private static final Duration STALL = Duration.ofMinutes(2);

  /** The replay could not read on (broker unavailable); worth retrying later. */
  public static final class ReplayStalledException extends RuntimeException {
    ReplayStalledException(String message) {
      super(message);
    }
  }

  private final Supplier<Consumer<byte[], byte[]>> consumers;
  private final Duration stall;

  public TenantVectorReader(Supplier<Consumer<byte[], byte[]>> consumers) {
    this(consumers, STALL);
  }

  /** {@code stall}: how long a replay may read nothing before it gives up (retriable). */
  TenantVectorReader(Supplier<Consumer<byte[], byte[]>> consumers, Duration stall) {
    this.consumers = consumers;
    this.stall = stall;
  }

  /**
   * sku → vector of the embeddings {@code ofTheIndex} accepts (the index's model name, version and
   * signature: another layer of the same version can have the same dimension); {@code until} maps
   * partition → first offset not covered (manifest embeddings_offsets).
   */
  public Map<String, float[]> read(String tenant, Predicate<Embedding> ofTheIndex, Map<Integer, Long> until) {
    return read(tenant, ofTheIndex, until, sku -> true);
  }

  /** As {@link #read(String, Predicate, Map)}, holding only the products {@code wanted} accepts. */
  public Map<String, float[]> read(String tenant, Predicate<Embedding> ofTheIndex, Map<Integer, Long> until,
      Predicate<String> wanted) {
    Map<String, float[]> vectors = new HashMap<>();
    String prefix = tenant + "/";
    try (Consumer<byte[], byte[]> c = consumers.get()) {
      List<TopicPartition> parts = new ArrayList<>();
      for (PartitionInfo p : c.partitionsFor(Topics.EMBEDDINGS.name(), Duration.ofSeconds(30))) {
        TopicPartition tp = new TopicPartition(p.topic(), p.partition());
        if (until.getOrDefault(p.partition(), 0L) > 0) {
          parts.add(tp);
        }
      }
      if (parts.isEmpty()) {
        return vectors;
      }
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> ends = c.endOffsets(parts);
      long lastProgress = System.nanoTime();
      long read = -1;
      while (!done(c, parts, until, ends)) {
        long position = 0;
        for (TopicPartition tp : parts) {
          position += c.position(tp);
        }
        if (position > read) {
          read = position;
          lastProgress = System.nanoTime();
        } else if (System.nanoTime() - lastProgress > stall.toNanos()) {
          throw new ReplayStalledException("embeddings replay made no progress for " + stall + " (up to " + until + ")");
        }
        for (ConsumerRecord<byte[], byte[]> rec : c.poll(POLL)) {
          if (rec.offset() >= until.get(rec.partition()) || rec.key() == null) {
            continue;
          }
          String key = new String(rec.key(), StandardCharsets.UTF_8);
          if (!key.startsWith(prefix)) {
            continue;
          }
          String sku = key.substring(prefix.length());
          if (!wanted.test(sku)) {
            continue;
          }
          if (rec.value() == null) {
            vectors.remove(sku);
            continue;
          }
          try {
            Embedding e = Embedding.parseFrom(rec.value());
            if (!ofTheIndex.test(e) || !EmbeddingKeys.agrees(e.getTenant(), tenant)
                || !EmbeddingKeys.agrees(e.getSku(), sku)) {
              continue;
            }
            float[] v = new float[e.getVectorCount()];
            for (int i = 0; i < v.length; i++) {
              v[i] = e.getVector(i);
            }
            if (IndexableVectors.refusal(v) == null) {
              // Otherwise the builder dead-lettered it and kept the product's previous vector, as here.
              vectors.put(sku, v);
            }
          } catch (InvalidProtocolBufferException ignored) {
            // The builder dead-lettered it and did not index it either.
          }
        }
      }
    }
    return vectors;
  }

  private static boolean done(Consumer<byte[], byte[]> c, List<TopicPartition> parts, Map<Integer, Long> until,
      Map<TopicPartition, Long> ends) {
    for (TopicPartition tp : parts) {
      long target = Math.min(until.get(tp.partition()), ends.getOrDefault(tp, 0L));
      if (c.position(tp) < target) {
        return false;
      }
    }
    return true;
  }
}
