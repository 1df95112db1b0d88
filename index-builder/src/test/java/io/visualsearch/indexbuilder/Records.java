package io.visualsearch.indexbuilder;

import io.visualsearch.proto.events.Embedding;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;

/** Embeddings records as the topic carries them, for unit tests. */
final class Records {

  private Records() {}

  static Embedding embedding(String tenant, String sku, long modelVersion, float... vector) {
    Embedding.Builder b = Embedding.newBuilder().setTenant(tenant).setSku(sku).setModelName("default")
        .setModelVersion(modelVersion).setSignature("serving_default").setImageSha256(imageSha(sku));
    for (float v : vector) {
      b.addVector(v);
    }
    return b.build();
  }

  /** The image a test product's vector stands for: a sha256 of its sku. */
  static String imageSha(String sku) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(sku.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static ConsumerRecord<byte[], byte[]> record(String key, byte[] value, String tenantHeader, long offset) {
    return record(key, value, tenantHeader, 0, offset);
  }

  static ConsumerRecord<byte[], byte[]> record(String key, byte[] value, String tenantHeader, int partition,
      long offset) {
    RecordHeaders headers = new RecordHeaders();
    if (tenantHeader != null) {
      headers.add("tenant", tenantHeader.getBytes(StandardCharsets.UTF_8));
    }
    return new ConsumerRecord<>("embeddings", partition, offset, 0L, TimestampType.CREATE_TIME, -1, -1,
        key == null ? null : key.getBytes(StandardCharsets.UTF_8), value, headers, Optional.empty());
  }

  static ConsumerRecord<byte[], byte[]> upsert(String tenant, String sku, long modelVersion, long offset, float... v) {
    return record(tenant + "/" + sku, embedding(tenant, sku, modelVersion, v).toByteArray(), tenant, offset);
  }

  /** A record of {@code dimensions} dimensions (all of them 1) on {@code partition}. */
  static ConsumerRecord<byte[], byte[]> upsertOn(int partition, String tenant, String sku, long modelVersion,
      long offset, int dimensions) {
    float[] v = new float[dimensions];
    java.util.Arrays.fill(v, 1f);
    return record(tenant + "/" + sku, embedding(tenant, sku, modelVersion, v).toByteArray(), tenant, partition, offset);
  }

  static ConsumerRecord<byte[], byte[]> tombstone(String tenant, String sku, long offset) {
    return record(tenant + "/" + sku, null, tenant, offset);
  }
}
