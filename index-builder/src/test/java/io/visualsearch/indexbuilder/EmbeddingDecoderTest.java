package io.visualsearch.indexbuilder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.opentelemetry.api.trace.SpanContext;
import io.visualsearch.indexformat.SkuIds;
import io.visualsearch.pipeline.PoisonRecordException;
import io.visualsearch.proto.events.Embedding;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class EmbeddingDecoderTest {

  private final EmbeddingDecoder decoder = new EmbeddingDecoder(List.of("default"));

  private String reason(ConsumerRecord<byte[], byte[]> rec) {
    return assertThrows(PoisonRecordException.class, () -> decoder.decode(rec, SpanContext.getInvalid())).reason();
  }

  @Test
  void upsertIsNormalisedAndCarriesTheStableSkuId() throws Exception {
    EmbeddingChange c = decoder.decode(Records.upsert("acme", "sku-1", 3, 0, 3f, 4f), SpanContext.getInvalid());
    EmbeddingChange.Upsert u = assertInstanceOf(EmbeddingChange.Upsert.class, c);
    assertEquals("acme", u.tenant());
    assertEquals(SkuIds.id("acme", "sku-1"), u.product().id());
    assertEquals(new ModelKey("default", 3, "serving_default", ""), u.product().model());
    assertArrayEquals(new float[] {0.6f, 0.8f}, u.product().vector(), 1e-6f);
  }

  @Test
  void tombstoneIsADelete() throws Exception {
    EmbeddingChange c = decoder.decode(Records.tombstone("acme", "sku/with/slash", 0), SpanContext.getInvalid());
    assertEquals(new EmbeddingChange.Delete("acme", "sku/with/slash"), c);
  }

  @Test
  void everyKindOfBadRecordHasItsOwnReason() {
    assertEquals("non-finite-vector", reason(Records.upsert("acme", "a", 1, 0, 1f, Float.NaN)));
    assertEquals("non-finite-vector", reason(Records.upsert("acme", "a", 1, 0, Float.POSITIVE_INFINITY, 1f)));
    assertEquals("empty-vector", reason(Records.upsert("acme", "a", 1, 0)));
    assertEquals("zero-vector", reason(Records.upsert("acme", "a", 1, 0, 0f, 0f)));
    assertEquals("malformed-payload", reason(Records.record("acme/a", new byte[] {(byte) 0xff, (byte) 0xff, 0x01}, "acme", 0)));
    assertEquals("malformed-payload", reason(Records.record("acme/a",
        Embedding.newBuilder().setModelName("default").setModelVersion(1).setSku("other").addVector(1f).build().toByteArray(),
        "acme", 0)));
    assertEquals("malformed-payload", reason(Records.upsert("acme", "a", 0, 0, 1f)));
    Embedding unknownModel = Records.embedding("acme", "a", 1, 1f).toBuilder().setModelName("resnet").build();
    assertEquals("unknown-model", reason(Records.record("acme/a", unknownModel.toByteArray(), "acme", 0)));
    assertEquals("malformed-key", reason(Records.record(null, Records.embedding("acme", "a", 1, 1f).toByteArray(), "acme", 0)));
    assertEquals("malformed-key", reason(Records.record("no-slash", null, null, 0)));
    assertEquals("malformed-key", reason(Records.record("../x/a", null, null, 0)));
    assertEquals("malformed-key", reason(Records.record("acme/a\tb", null, "acme", 0)));
    assertEquals("tenant-mismatch", reason(Records.record("acme/a", null, "other", 0)));
    assertEquals("tenant-mismatch", reason(Records.record("acme/a",
        Records.embedding("other", "a", 1, 1f).toByteArray(), "acme", 0)));
  }

  @Test
  void everyModelNameIsIndexedByDefaultButNoName() throws Exception {
    EmbeddingDecoder any = new EmbeddingDecoder(IndexBuilderSettings.MODEL_NAMES.defaultValue());
    Embedding resnet = Records.embedding("acme", "a", 1, 1f).toBuilder().setModelName("resnet50").build();
    EmbeddingChange.Upsert u = (EmbeddingChange.Upsert) any.decode(Records.record("acme/a", resnet.toByteArray(), "acme", 0),
        io.opentelemetry.api.trace.SpanContext.getInvalid());
    assertEquals("resnet50", u.product().model().name());
    Embedding unnamed = resnet.toBuilder().setModelName("").build();
    PoisonRecordException e = org.junit.jupiter.api.Assertions.assertThrows(PoisonRecordException.class,
        () -> any.decode(Records.record("acme/a", unnamed.toByteArray(), "acme", 0),
            io.opentelemetry.api.trace.SpanContext.getInvalid()));
    assertEquals("unknown-model", e.reason());
  }
}
