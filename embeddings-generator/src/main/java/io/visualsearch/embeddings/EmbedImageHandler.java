package io.visualsearch.embeddings;

import com.google.protobuf.InvalidProtocolBufferException;
import io.opentelemetry.api.trace.Span;
import io.visualsearch.imagevalidation.NormalisedImage;
import io.visualsearch.modelclient.Embeddings;
import io.visualsearch.modelclient.ModelClient;
import io.visualsearch.modelclient.ModelRejectedException;
import io.visualsearch.modelclient.ModelUnavailableException;
import io.visualsearch.modelclient.ModelVersionNotServedException;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreException;
import io.visualsearch.objectstore.StoredObject;
import io.visualsearch.pipeline.Outbox;
import io.visualsearch.pipeline.PipelineHeaders;
import io.visualsearch.pipeline.PoisonRecordException;
import io.visualsearch.pipeline.RecordHandler;
import io.visualsearch.pipeline.RetriableProcessingException;
import io.visualsearch.proto.events.Embedding;
import io.visualsearch.proto.events.ImageReady;
import io.visualsearch.topics.Topics;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * One images.ready record in, one embeddings record out (same key), computed by one pinned model
 * version. A tombstone passes through as a tombstone.
 */
final class EmbedImageHandler implements RecordHandler {

  /** Whether a record may be handled now. */
  interface Gate {
    /** Null to handle {@code rec}; otherwise why it waits (it is retried after the loop's backoff). */
    String holds(ConsumerRecord<byte[], byte[]> rec);

    Gate OPEN = rec -> null;
  }

  private final ObjectStore store;
  private final ModelClient model;
  private final VectorCache cache;
  private final long modelVersion;
  private final Gate gate;
  private final Runnable versionNotServed;

  EmbedImageHandler(ObjectStore store, ModelClient model, VectorCache cache, long modelVersion) {
    this(store, model, cache, modelVersion, Gate.OPEN, () -> {});
  }

  /**
   * @param gate holds records back (a replay behind the previous version's loop, ModelVersionFollower)
   * @param versionNotServed told when the model server answers that {@code modelVersion} is not served
   */
  EmbedImageHandler(ObjectStore store, ModelClient model, VectorCache cache, long modelVersion, Gate gate,
      Runnable versionNotServed) {
    this.store = store;
    this.model = model;
    this.cache = cache;
    this.modelVersion = modelVersion;
    this.gate = gate;
    this.versionNotServed = versionNotServed;
  }

  @Override
  public void handle(ConsumerRecord<byte[], byte[]> rec, Outbox out) throws Exception {
    String held = gate.holds(rec);
    if (held != null) {
      throw new RetriableProcessingException(held);
    }
    String key = rec.key() == null ? null : new String(rec.key(), StandardCharsets.UTF_8);
    if (key == null || key.indexOf('/') <= 0) {
      throw new PoisonRecordException("missing-key", "images.ready record without a tenant/sku key");
    }
    String tenant = key.substring(0, key.indexOf('/'));
    Span span = Span.current();
    span.setAttribute("tenant", tenant);
    span.setAttribute("sku", key.substring(key.indexOf('/') + 1));
    span.setAttribute("model.version", modelVersion);
    if (rec.value() == null) {
      out.send(Topics.EMBEDDINGS.name(), key, null, headers(tenant));
      return;
    }
    ImageReady ready;
    try {
      ready = ImageReady.parseFrom(rec.value());
    } catch (InvalidProtocolBufferException e) {
      throw new PoisonRecordException("malformed-payload", "images.ready value is not an ImageReady message", e);
    }
    if (!NormalisedImage.isSha256(ready.getImageSha256())) {
      throw new PoisonRecordException("bad-image-hash", "image hash '" + ready.getImageSha256() + "' is not a sha256");
    }
    float[] vector = vectorFor(ready);
    Embedding embedding = Embedding.newBuilder()
        .setTenant(tenant)
        .setSku(ready.getSku().isEmpty() ? key.substring(key.indexOf('/') + 1) : ready.getSku())
        .addAllVector(boxed(vector))
        .setModelName(model.modelName())
        .setModelVersion(modelVersion)
        .setImageSha256(ready.getImageSha256())
        .setSignature(model.signature())
        .setVectorVariant(model.vectorVariant())
        .build();
    out.send(Topics.EMBEDDINGS.name(), key, embedding.toByteArray(), headers(tenant));
  }

  private RecordHeaders headers(String tenant) {
    RecordHeaders h = new RecordHeaders();
    h.add(PipelineHeaders.TENANT, tenant.getBytes(StandardCharsets.UTF_8));
    h.add(PipelineHeaders.MODEL_VERSION, Long.toString(modelVersion).getBytes(StandardCharsets.UTF_8));
    return h;
  }

  private float[] vectorFor(ImageReady ready) throws Exception {
    String sha = ready.getImageSha256();
    try {
      VectorCache.Vector v = cache.get(model.modelName(), modelVersion, sha, () -> embed(sha));
      if (!v.computed()) {
        Span.current().setAttribute("embedding.cached", true);
      }
      return v.values();
    } catch (ObjectStoreException e) {
      // Even "access denied" or a skewed clock: the bucket is the deployment's own, so the cause
      // is ours to fix, and dead-lettering meanwhile would drop every image of the catalog.
      throw new RetriableProcessingException(e.getMessage(), e);
    } catch (ModelVersionNotServedException e) {
      versionNotServed.run();
      throw new RetriableProcessingException(e.getMessage(), e);
    } catch (ModelUnavailableException e) {
      throw new RetriableProcessingException(e.getMessage(), e);
    } catch (ModelRejectedException e) {
      throw new PoisonRecordException("model-rejected-input", e.getMessage(), e);
    }
  }

  private float[] embed(String sha) throws Exception {
    StoredObject image = store.get(NormalisedImage.objectKey(sha)).orElseThrow(() -> new PoisonRecordException(
        "image-missing", "normalised image " + NormalisedImage.objectKey(sha) + " is not in the object store"));
    BufferedImage decoded = decode(image.bytes(), sha);
    float[] v = model.embed(List.of(decoded), modelVersion).vectors()[0];
    for (float x : v) {
      if (!Float.isFinite(x)) {
        throw new PoisonRecordException("non-finite-embedding", "model returned NaN/Inf for image " + sha);
      }
    }
    return v;
  }

  private static BufferedImage decode(byte[] bytes, String sha) throws PoisonRecordException {
    try {
      return NormalisedImage.decode(bytes);
    } catch (IOException e) {
      throw new PoisonRecordException("undecodable-image", NormalisedImage.objectKey(sha) + ": " + e.getMessage(), e);
    }
  }

  private static List<Float> boxed(float[] v) {
    Float[] out = new Float[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = v[i];
    }
    return List.of(out);
  }
}
