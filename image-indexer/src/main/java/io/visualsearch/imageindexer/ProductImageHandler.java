package io.visualsearch.imageindexer;

import com.google.protobuf.InvalidProtocolBufferException;
import io.opentelemetry.api.trace.Span;
import io.visualsearch.imagefetch.FailureCode;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreException;
import io.visualsearch.pipeline.Outbox;
import io.visualsearch.pipeline.PoisonRecordException;
import io.visualsearch.pipeline.RecordHandler;
import io.visualsearch.pipeline.RetriableProcessingException;
import io.visualsearch.proto.events.ImageReady;
import io.visualsearch.proto.events.ProductUpsert;
import io.visualsearch.topics.Topics;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One catalog.products record in, one images.ready record out (same key). An upsert always
 * re-emits, even when the image is unchanged, so images.ready carries the product version
 * ({@code product_content_hash}) it belongs to and a record handled twice after a crash is still
 * emitted; downstream skips unchanged images by their hash. A tombstone passes through as a
 * tombstone and forgets the product's image state; the image object itself stays, since other
 * products may share its content address. Retry budget and failing hosts bound downloads; a
 * re-check of a stored image its host cannot answer keeps that image instead.
 */
final class ProductImageHandler implements RecordHandler {

  private static final Logger log = LoggerFactory.getLogger(ProductImageHandler.class);
  /** Stale-reuse reasons, the label of image_indexer_kept_stale_total. */
  static final String HOST_FAILING = "host-failing";
  static final String HOST_UNAVAILABLE = "host-unavailable";

  private final ImageStateStore states;
  private final ObjectStore store;
  private final ImageSource images;
  private final RetryBudget budget;
  private final FailingHosts failingHosts;
  private final OutboundNetwork network;
  private final IndexerMetrics metrics;

  ProductImageHandler(ImageStateStore states, ObjectStore store, ImageSource images, RetryBudget budget,
      FailingHosts failingHosts, OutboundNetwork network, IndexerMetrics metrics) {
    this.states = states;
    this.store = store;
    this.images = images;
    this.budget = budget;
    this.failingHosts = failingHosts;
    this.network = network;
    this.metrics = metrics;
  }

  @Override
  public void handle(ConsumerRecord<byte[], byte[]> rec, Outbox out) throws Exception {
    try {
      ProductRef product = ProductRef.fromKey(rec.key() == null ? null
          : new String(rec.key(), StandardCharsets.UTF_8));
      Span.current().setAttribute("sku", product.sku());
      if (rec.value() == null) {
        out.send(Topics.IMAGES_READY.name(), product.key(), null, product.tenant());
        states.delete(product.tenant(), product.sku());
        return;
      }
      ProductUpsert upsert = parse(rec.value(), product);
      ImageState state = imageFor(product, upsert, recordId(rec));
      out.send(Topics.IMAGES_READY.name(), product.key(), ready(product, upsert, state).toByteArray(),
          product.tenant());
    } catch (ObjectStoreException e) {
      // Our own store failing is never the product's fault: wait for it rather than dead-letter.
      throw new RetriableProcessingException("object store: " + e.getMessage(), e);
    } catch (PoisonRecordException e) {
      // Once its dead letter is acknowledged: a batch handled again after a refused send counted
      // the same product twice, and one whose letter was never written once too many.
      String reason = e.reason();
      out.onAcknowledged(() -> metrics.refused(reason));
      throw e;
    }
  }

  private ImageState imageFor(ProductRef product, ProductUpsert upsert, String recordId)
      throws PoisonRecordException, RetriableProcessingException {
    String link = upsert.getProduct().getImageLink().strip();
    if (link.isEmpty()) {
      throw Rejections.noImageLink();
    }
    Optional<ImageState> previous = states.get(product.tenant(), product.sku());
    Refresh refresh = Refresh.decide(previous, link, images.normalisation());
    if (refresh != Refresh.DOWNLOAD && !store.exists(previous.get().objectKey())) {
      refresh = Refresh.DOWNLOAD; // the stored copy is gone: validators would only confirm a loss
    }
    String host = hostOf(link);
    String tenant = product.tenant();
    if (refresh == Refresh.DOWNLOAD && !network.looksDown() && failingHosts.skip(tenant, host)) {
      budget.forget(recordId);
      throw Rejections.hostFailing(link, host);
    }
    if (refresh.refreshesStored() && failingHosts.skipRefresh(tenant, host)) {
      return keepStored(product, previous.get(), recordId, HOST_FAILING, "host " + host + " is marked failing");
    }
    Acquired acquired = images.acquire(product, link, refresh, previous);
    if (acquired instanceof Acquired.HostFailing failing) {
      if (refresh.refreshesStored()) {
        if (!network.looksDown()) {
          failingHosts.refreshFailed(host);
        }
        return keepStored(product, previous.get(), recordId, HOST_UNAVAILABLE, failing.failure().message());
      }
      if (network.looksDown()) {
        // Not this host's failure, nor this product's: wait for our own way out, spending nothing.
        throw new RetriableProcessingException("image hosts unreachable and none answering: the outbound network"
            + " looks down; " + product.key() + " waits without spending its retries: " + failing.failure().message());
      }
      // Each round pauses every tenant: a tenant whose products already used up their retries on
      // several hosts gets none more, whatever its next host is called.
      boolean tenantOutOfRetries = failingHosts.outOfRetries(tenant);
      if (tenantOutOfRetries || budget.spend(recordId)) {
        budget.forget(recordId);
        // A slow image says little about the host's other images (a large one served slowly): only
        // a host that fails to answer is skipped for the tenant's next products. A product refused
        // its rounds (the tenant's budget) tried once: counted as one that used them up, a few
        // blips of the tenant's healthy CDN would get that CDN skipped for all its products.
        if (tenantOutOfRetries) {
          // not counted
        } else if (failing.failure().code() != FailureCode.TIMEOUT) {
          failingHosts.gaveUp(tenant, host);
        } else {
          failingHosts.gaveUpSlowly(tenant, host);
        }
        throw tenantOutOfRetries ? Rejections.tenantHostsFailing(link, failing.failure())
            : Rejections.gaveUp(link, failing.failure(), budget.maxRounds());
      }
      throw new RetriableProcessingException("image host failing for " + product.key() + " (round "
          + budget.rounds(recordId) + "): " + failing.failure().message());
    }
    budget.forget(recordId);
    Acquired.Ready ready = (Acquired.Ready) acquired;
    if (ready.hostAnswered()) {
      failingHosts.succeeded(tenant, host);
    }
    ImageState state = ready.state();
    Span.current().setAttribute("sha256", state.sha256());
    if (previous.isEmpty() || !previous.get().equals(state)) {
      states.put(product.tenant(), product.sku(), state);
    }
    return state;
  }

  /**
   * A conditional refresh the image host cannot answer now: the stored image stands, unchecked.
   * It is what this link served when the host last answered and it is indexed; the record is a
   * catalog change (price, stock) that needs no new image. Retry rounds would pause every tenant
   * for a product that is already searchable, and dead-lettering would drop it from images.ready
   * for a CDN outage. A picture replaced behind the same link is fetched on the product's next
   * change once the host answers.
   */
  private ImageState keepStored(ProductRef product, ImageState stored, String recordId, String reason, String why) {
    budget.forget(recordId);
    metrics.keptStale(reason);
    Span.current().setAttribute("sha256", stored.sha256()).setAttribute("image.kept_stale", reason);
    if (HOST_UNAVAILABLE.equals(reason)) {
      // Bounded: after a few of these the host is marked failing and only probed once a minute.
      log.warn("{}: kept the stored image unchecked ({}): {}", product.key(), reason, why);
    } else {
      log.debug("{}: kept the stored image unchecked ({}): {}", product.key(), reason, why);
    }
    return stored;
  }

  /**
   * host[:port] of an image link, the unit a CDN fails in; the link itself when it has none. The
   * port stays: a shop's CDN and its origin on :8080 are different servers, and dropping it would
   * not stop the breaker being bypassed by many names (wildcard DNS); the tenant's budget of
   * failing hosts bounds both ({@link FailingHosts#outOfRetries}).
   */
  static String hostOf(String link) {
    try {
      URI uri = new URI(link);
      if (uri.getHost() != null) {
        return uri.getHost().toLowerCase(java.util.Locale.ROOT) + (uri.getPort() >= 0 ? ":" + uri.getPort() : "");
      }
    } catch (URISyntaxException e) {
      // fall through: the fetcher reports the link itself
    }
    return link;
  }

  private static ProductUpsert parse(byte[] value, ProductRef product) throws PoisonRecordException {
    ProductUpsert upsert;
    try {
      upsert = ProductUpsert.parseFrom(value);
    } catch (InvalidProtocolBufferException e) {
      throw new PoisonRecordException("malformed-payload", "catalog.products value is not a ProductUpsert message", e);
    }
    if (!upsert.getTenant().isEmpty() && !upsert.getTenant().equals(product.tenant())) {
      throw new PoisonRecordException("tenant-mismatch", "record keyed for tenant " + product.tenant()
          + " carries a product of tenant " + upsert.getTenant());
    }
    return upsert;
  }

  private static ImageReady ready(ProductRef product, ProductUpsert upsert, ImageState state) {
    return ImageReady.newBuilder()
        .setTenant(product.tenant())
        .setSku(product.sku())
        .setImageSha256(state.sha256())
        .setObjectKey(state.objectKey())
        .setWidth(state.width())
        .setHeight(state.height())
        .setSourceUrl(state.imageLink())
        .setProductContentHash(upsert.getContentHash())
        .build();
  }

  private static String recordId(ConsumerRecord<?, ?> rec) {
    return rec.topic() + "-" + rec.partition() + "@" + rec.offset();
  }
}
