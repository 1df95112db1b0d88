package io.visualsearch.indexbuilder;

import com.google.protobuf.InvalidProtocolBufferException;
import io.opentelemetry.api.trace.SpanContext;
import io.visualsearch.indexformat.EmbeddingKeys;
import io.visualsearch.indexformat.ImageKeys;
import io.visualsearch.indexformat.IndexableVectors;
import io.visualsearch.indexformat.IndexLayout;
import io.visualsearch.indexformat.SkuIds;
import io.visualsearch.pipeline.PipelineHeaders;
import io.visualsearch.pipeline.PoisonRecordException;
import io.visualsearch.proto.events.Embedding;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Turns an embeddings record into an {@link EmbeddingChange}, refusing anything that must never
 * reach an index. Each refusal carries a short reason code for the dead-letter topic; checks that
 * need the tenant's state (the model's dimension) are the catalog's.
 */
final class EmbeddingDecoder {

  static final String MALFORMED_KEY = "malformed-key";
  static final String MALFORMED_PAYLOAD = "malformed-payload";
  static final String TENANT_MISMATCH = "tenant-mismatch";
  static final String UNKNOWN_MODEL = "unknown-model";
  static final String EMPTY_VECTOR = IndexableVectors.EMPTY;
  static final String NON_FINITE_VECTOR = IndexableVectors.NON_FINITE;
  static final String ZERO_VECTOR = IndexableVectors.ZERO;

  /** SKUs end up as lines of skus.tsv, so they must stay on one line and one column. */
  private static final int MAX_SKU_CHARS = 512;

  /** INDEX_BUILDER_MODEL_NAMES's value that indexes every model name. */
  static final String ANY_MODEL = "*";

  private final Set<String> modelNames;
  private final boolean anyModel;

  EmbeddingDecoder(List<String> modelNames) {
    this.modelNames = Set.copyOf(modelNames);
    this.anyModel = this.modelNames.contains(ANY_MODEL);
  }

  EmbeddingChange decode(ConsumerRecord<byte[], byte[]> rec, SpanContext origin) throws PoisonRecordException {
    if (rec.key() == null) {
      throw new PoisonRecordException(MALFORMED_KEY, "record has no key; expected tenant/sku");
    }
    String key = new String(rec.key(), StandardCharsets.UTF_8);
    int slash = key.indexOf('/');
    if (slash <= 0 || slash == key.length() - 1) {
      throw new PoisonRecordException(MALFORMED_KEY, "key '" + abbreviate(key) + "' is not tenant/sku");
    }
    String tenant = key.substring(0, slash);
    String sku = key.substring(slash + 1);
    try {
      IndexLayout.validTenant(tenant);
    } catch (IllegalArgumentException e) {
      throw new PoisonRecordException(MALFORMED_KEY, e.getMessage());
    }
    checkSku(sku);
    String headerTenant = PipelineHeaders.get(rec.headers(), PipelineHeaders.TENANT);
    if (headerTenant != null && !headerTenant.equals(tenant)) {
      throw new PoisonRecordException(TENANT_MISMATCH,
          "header tenant '" + abbreviate(headerTenant) + "' differs from key tenant '" + tenant + "'");
    }
    if (rec.value() == null) {
      return new EmbeddingChange.Delete(tenant, sku, origin);
    }
    Embedding e;
    try {
      e = Embedding.parseFrom(rec.value());
    } catch (InvalidProtocolBufferException ex) {
      throw new PoisonRecordException(MALFORMED_PAYLOAD, "value is not an Embedding message: " + ex.getMessage(), ex);
    }
    if (e.getVectorCount() == 0 && !e.getUnknownFields().asMap().isEmpty()) {
      // Bytes that happen to parse, but only as fields Embedding does not have.
      throw new PoisonRecordException(MALFORMED_PAYLOAD, "value is not an Embedding message (only unknown fields)");
    }
    if (!EmbeddingKeys.agrees(e.getTenant(), tenant)) {
      throw new PoisonRecordException(TENANT_MISMATCH,
          "payload tenant '" + abbreviate(e.getTenant()) + "' differs from key tenant '" + tenant + "'");
    }
    if (!EmbeddingKeys.agrees(e.getSku(), sku)) {
      throw new PoisonRecordException(MALFORMED_PAYLOAD, "payload sku '" + abbreviate(e.getSku())
          + "' differs from key sku '" + abbreviate(sku) + "'");
    }
    if (e.getModelName().isEmpty()) {
      throw new PoisonRecordException(UNKNOWN_MODEL, "model_name is empty");
    }
    // Any name by default: a deployment that moves to another model re-embeds its catalogs under
    // the new name, and only ModelSelection's coverage rule keeps the served index meanwhile; with
    // the new name dead-lettered, no index of it was ever built, and a restart's replay built the
    // old model's index from the products not yet re-embedded.
    if (!anyModel && !modelNames.contains(e.getModelName())) {
      throw new PoisonRecordException(UNKNOWN_MODEL, "model '" + abbreviate(e.getModelName())
          + "' is not one this deployment indexes " + modelNames.stream().sorted().toList());
    }
    if (e.getModelVersion() <= 0) {
      throw new PoisonRecordException(MALFORMED_PAYLOAD, "model_version must be positive, got " + e.getModelVersion());
    }
    float[] vector = normalised(e);
    ModelKey model = new ModelKey(e.getModelName(), e.getModelVersion(), e.getSignature(), e.getVectorVariant());
    return new EmbeddingChange.Upsert(tenant, new ProductVector(sku, SkuIds.id(tenant, sku), model, vector,
        ImageKeys.of(e.getImageSha256())), origin);
  }

  private static void checkSku(String sku) throws PoisonRecordException {
    if (sku.length() > MAX_SKU_CHARS) {
      throw new PoisonRecordException(MALFORMED_KEY, "sku is " + sku.length() + " characters, at most "
          + MAX_SKU_CHARS + " allowed");
    }
    for (int i = 0; i < sku.length(); i++) {
      if (Character.isISOControl(sku.charAt(i))) {
        throw new PoisonRecordException(MALFORMED_KEY, "sku contains a control character at " + i);
      }
    }
  }

  /** Cosine similarity is inner product on unit vectors: normalise once here, not per query. */
  private static float[] normalised(Embedding e) throws PoisonRecordException {
    float[] v = new float[e.getVectorCount()];
    double sumSquares = 0;
    for (int i = 0; i < v.length; i++) {
      v[i] = e.getVector(i);
      sumSquares += (double) v[i] * v[i];
    }
    IndexableVectors.Refusal refusal = IndexableVectors.refusal(v);
    if (refusal != null) {
      throw new PoisonRecordException(refusal.reason(), refusal.message());
    }
    double norm = Math.sqrt(sumSquares);
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (v[i] / norm);
    }
    return v;
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 80) + "...";
  }
}
