package io.visualsearch.imageindexer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.visualsearch.imagefetch.AddressPolicy;
import io.visualsearch.imagefetch.FetchConfig;
import io.visualsearch.imagefetch.ImageFetcher;
import io.visualsearch.imagevalidation.ValidationPolicy;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.pipeline.Outbox;
import io.visualsearch.pipeline.PoisonRecordException;
import io.visualsearch.pipeline.RetriableProcessingException;
import io.visualsearch.proto.events.ImageReady;
import io.visualsearch.proto.events.ProductUpsert;
import io.visualsearch.tracing.Tracing;
import java.awt.Color;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The handler's use of {@link FailingHosts} against a local image host: what a price change does
 * when the host is down or marked failing, and that only an answer from the host clears it.
 */
class ProductImageHandlerTest {

  static final String TENANT = "shop";

  final AtomicLong now = new AtomicLong(1_000_000_000_000L);
  final FailingHosts failingHosts = new FailingHosts(3, Duration.ofMinutes(10), Duration.ofMinutes(1), now::get);
  final RetryBudget budget = new RetryBudget(5);
  final OutboundNetwork network = new OutboundNetwork(3, Duration.ofMinutes(1), Duration.ofMinutes(10), now::get);
  final PrometheusRegistry registry = new PrometheusRegistry();
  final IndexerMetrics metrics = new IndexerMetrics(registry);
  final MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null, new ByteArraySerializer(),
      new ByteArraySerializer());
  ObjectStore store;
  ImageStateStore states;
  ImageHost images;
  ImageFetcher fetcher;
  Tracing tracing;
  Outbox outbox;
  ProductImageHandler handler;
  long offset;
  long price = 1_000_000;

  @BeforeEach
  void start() throws Exception {
    store = MemoryObjectStore.started();
    states = new ImageStateStore(store);
    images = new ImageHost();
    // One attempt a round: each round the handler makes is one request the host sees; a 1 s limit
    // for the cases of a server too slow.
    fetcher = new ImageFetcher(FetchConfig.defaults().withRetries(1, Duration.ofMillis(1), Duration.ofMillis(1))
        .withTimeouts(Duration.ofSeconds(2), Duration.ofMillis(800), Duration.ofSeconds(1)),
        AddressPolicy.allowing(List.of("127.0.0.1/32")));
    tracing = Tracing.withExporter("image-indexer-test", new DiscardingExporter());
    outbox = new Outbox(producer, tracing);
    ImageSource source = new ImageSource(fetcher, ValidationPolicy.defaults(), store,
        tracing.tracer(), metrics, network, Duration.ofDays(7), java.time.Clock.systemUTC());
    handler = new ProductImageHandler(states, store, source, budget, failingHosts, network, metrics);
  }

  @AfterEach
  void stop() {
    fetcher.close();
    images.close();
    tracing.close();
    store.close();
  }

  String host() {
    return "127.0.0.1:" + images.port();
  }

  void markFailing() {
    for (int i = 0; i < 3; i++) {
      failingHosts.gaveUp(TENANT, host());
    }
    assertTrue(failingHosts.skip(TENANT, host()));
  }

  /** Sends the product's record (a new price each time) through the handler; the images.ready it emitted. */
  ImageReady handle(String sku, String path) throws Exception {
    return handleLink(sku, images.url(path), offset++);
  }

  /** The same for any image link, as the record at {@code recordOffset} (the same offset: the record handled again). */
  ImageReady handleLink(String sku, String link, long recordOffset) throws Exception {
    return handleLink(TENANT, sku, link, recordOffset);
  }

  /** The same for a product of {@code tenant}. */
  ImageReady handleLink(String tenant, String sku, String link, long recordOffset) throws Exception {
    ProductUpsert upsert = IndexerFixture.product(tenant, sku, link, price++);
    handler.handle(new ConsumerRecord<>("catalog.products", 0, recordOffset,
        (tenant + "/" + sku).getBytes(StandardCharsets.UTF_8), upsert.toByteArray()), outbox);
    List<ProducerRecord<byte[], byte[]>> sent = producer.history();
    ProducerRecord<byte[], byte[]> last = sent.get(sent.size() - 1);
    assertEquals("images.ready", last.topic());
    ImageReady ready = ImageReady.parseFrom(last.value());
    assertEquals(upsert.getContentHash(), ready.getProductContentHash(), "names the product version it belongs to");
    return ready;
  }

  /** A product indexed from the host while it worked, its image served with {@code etag} (null: none). */
  String indexed(String sku, String path, Color color, String etag) throws Exception {
    images.image(path, TestImages.png(color), "image/png", etag);
    String sha = handle(sku, path).getImageSha256();
    assertEquals(1, images.downloads(path));
    return sha;
  }

  double keptStale(String reason) {
    for (MetricSnapshot s : registry.scrape()) {
      if (s instanceof CounterSnapshot c && c.getMetadata().getPrometheusName().equals("image_indexer_kept_stale")) {
        return c.getDataPoints().stream().filter(d -> reason.equals(d.getLabels().get("reason")))
            .mapToDouble(CounterSnapshot.CounterDataPointSnapshot::getValue).sum();
      }
    }
    return 0;
  }

  double renormalised() {
    for (MetricSnapshot s : registry.scrape()) {
      if (s instanceof CounterSnapshot c && c.getMetadata().getPrometheusName().equals("image_indexer_renormalised")) {
        return c.getDataPoints().stream().mapToDouble(CounterSnapshot.CounterDataPointSnapshot::getValue).sum();
      }
    }
    return 0;
  }

  /** The handler as the service builds it after a restart with IMAGE_MAX_SIDE = {@code side}: same store, same host. */
  void restartWithMaxSide(int side) {
    ImageSource source = new ImageSource(fetcher, ValidationPolicy.defaults().withMaxOutputSide(side), store,
        tracing.tracer(), metrics, network, Duration.ofDays(7), java.time.Clock.systemUTC());
    handler = new ProductImageHandler(states, store, source, budget, failingHosts, network, metrics);
  }

  /** A 64x48 product photo at {@code path}, indexed with IMAGE_MAX_SIDE 32 (so stored 32x24). */
  ImageReady indexedAtSide32(String sku, String path, String etag) throws Exception {
    restartWithMaxSide(32);
    images.image(path, TestImages.png(Color.ORANGE), "image/png", etag);
    ImageReady ready = handle(sku, path);
    assertEquals(32, ready.getWidth());
    assertEquals(24, ready.getHeight());
    assertEquals(1, images.downloads(path));
    return ready;
  }

  /** The handler as the service builds it with IMAGE_SWEEP_GRACE {@code grace}, its clock at {@code now}. */
  void restartAt(java.time.Instant now, Duration grace) {
    ImageSource source = new ImageSource(fetcher, ValidationPolicy.defaults(), store, tracing.tracer(), metrics,
        network, grace, java.time.Clock.fixed(now, java.time.ZoneOffset.UTC));
    handler = new ProductImageHandler(states, store, source, budget, failingHosts, network, metrics);
  }

  double counter(String name) {
    for (MetricSnapshot s : registry.scrape()) {
      if (s instanceof CounterSnapshot c && c.getMetadata().getPrometheusName().equals(name)) {
        return c.getDataPoints().stream().mapToDouble(CounterSnapshot.CounterDataPointSnapshot::getValue).sum();
      }
    }
    return 0;
  }

  /**
   * A sweep deletes an image no product named when it read the references and that was last
   * written over IMAGE_SWEEP_GRACE ago. A product taking up such an image (the same picture under a
   * new link) writes it again first once it is half that old, so no sweep can find it old.
   */
  @Test
  void aStoredImageANewProductTakesUpIsWrittenAgainOnceHalfTheSweepGraceOld() throws Exception {
    byte[] photo = TestImages.png(Color.ORANGE);
    images.image("/a.png", photo, "image/png", null);
    images.image("/b.png", photo, "image/png", null);
    images.image("/c.png", photo, "image/png", null);
    String sha = handle("first", "/a.png").getImageSha256();
    java.time.Instant written = store.lastModified("images/" + sha).orElseThrow();

    restartAt(written.plus(Duration.ofDays(1)), Duration.ofDays(7));
    assertEquals(sha, handle("second", "/b.png").getImageSha256());
    assertEquals(0.0, counter("image_indexer_images_refreshed"), "a day old: left as it is");
    assertEquals(written, store.lastModified("images/" + sha).orElseThrow());

    restartAt(written.plus(Duration.ofDays(4)), Duration.ofDays(7));
    assertEquals(sha, handle("third", "/c.png").getImageSha256());
    assertEquals(1.0, counter("image_indexer_images_refreshed"), "four days old: written again");
    assertTrue(store.lastModified("images/" + sha).orElseThrow().isAfter(written));
    assertEquals(1.0, counter("image_indexer_images_stored"), "stored once: the refresh is no new image");
  }

  @Test
  void aChangedMaxSideMakesThePriceChangeOfAProductWithoutValidatorsNormaliseItsImageAgain() throws Exception {
    ImageReady small = indexedAtSide32("plain", "/plain.png", null);

    restartWithMaxSide(64);
    ImageReady large = handle("plain", "/plain.png");
    assertEquals(2, images.downloads("/plain.png"), "fetched again, not reused");
    assertEquals(64, large.getWidth());
    assertEquals(48, large.getHeight());
    assertNotEquals(small.getImageSha256(), large.getImageSha256());
    assertTrue(store.exists("images/" + large.getImageSha256()));
    assertEquals(new Normalisation(64, Normalisation.VERSION), states.get(TENANT, "plain").orElseThrow().normalisation());
    assertEquals(1.0, renormalised());

    assertEquals(large.getImageSha256(), handle("plain", "/plain.png").getImageSha256());
    assertEquals(2, images.hits("/plain.png"), "once normalised the new way, reused as before");
  }

  @Test
  void aChangedMaxSideDownloadsAnImageWithAnEtagInsteadOfAskingForA304() throws Exception {
    indexedAtSide32("e-1", "/e1.png", "\"v1\"");

    restartWithMaxSide(64);
    assertEquals(64, handle("e-1", "/e1.png").getWidth());
    assertEquals(0, images.notModified("/e1.png"), "no conditional GET: its 304 would keep the 32 px copy");
    assertEquals(2, images.downloads("/e1.png"));

    handle("e-1", "/e1.png");
    assertEquals(1, images.notModified("/e1.png"), "then conditional GETs as before");
    assertEquals(2, images.downloads("/e1.png"));
  }

  @Test
  void theSameSettingsAfterARestartReuseTheStoredCopyAsBefore() throws Exception {
    ImageReady first = indexedAtSide32("plain", "/plain.png", null);

    restartWithMaxSide(32);
    ImageReady again = handle("plain", "/plain.png");
    assertEquals(first.getImageSha256(), again.getImageSha256());
    assertEquals(1, images.hits("/plain.png"), "reused: the host is not asked");
    assertEquals(0.0, renormalised());
  }

  @Test
  void aStateWrittenBeforeTheNormalisationWasRecordedIsReusedUnderTheDefaultSettings() throws Exception {
    images.image("/plain.png", TestImages.png(Color.ORANGE), "image/png", null);
    String sha = handle("plain", "/plain.png").getImageSha256();
    // The state as the previous release wrote it, without the normalisation field.
    store.put(ImageStateStore.key(TENANT, "plain"), ("{\"image_link\":\"" + images.url("/plain.png")
        + "\",\"etag\":null,\"last_modified\":null,\"sha256\":\"" + sha + "\",\"width\":64,\"height\":48}")
        .getBytes(StandardCharsets.UTF_8), "application/json");

    assertEquals(sha, handle("plain", "/plain.png").getImageSha256());
    assertEquals(1, images.hits("/plain.png"), "an upgrade alone does not re-fetch the catalog");
    assertEquals(0.0, renormalised());
  }

  @Test
  void aRenormalisationTheImageHostCannotAnswerKeepsTheStoredCopyAtOnceAndIsTriedAgainNextTime() throws Exception {
    ImageReady small = indexedAtSide32("plain", "/plain.png", null);

    restartWithMaxSide(64);
    images.status("/plain.png", 503);
    // Returns, not RetriableProcessingException: the product is indexed, its copy stands for now.
    assertEquals(small.getImageSha256(), handle("plain", "/plain.png").getImageSha256());
    assertEquals(0, budget.rounds("catalog.products-0@" + (offset - 1)), "no retry budget spent");
    assertEquals(1.0, keptStale(ProductImageHandler.HOST_UNAVAILABLE));
    assertEquals(new Normalisation(32, Normalisation.VERSION), states.get(TENANT, "plain").orElseThrow().normalisation());

    images.image("/plain.png", TestImages.png(Color.ORANGE), "image/png", null);
    assertEquals(64, handle("plain", "/plain.png").getWidth(), "the next record normalises it the new way");
  }

  @Test
  void reusingAStoredImageWithoutAskingDoesNotClearAFailingHost() throws Exception {
    String sha = indexed("plain", "/plain.png", Color.ORANGE, null);
    markFailing();

    assertEquals(sha, handle("plain", "/plain.png").getImageSha256(), "price change: the stored image reused");
    assertEquals(1, images.hits("/plain.png"), "nothing was asked of the host");
    assertTrue(failingHosts.skip(TENANT, host()), "a reuse says nothing about the host: it stays marked failing");
  }

  @Test
  void aConditionalRefreshOfAHostMarkedFailingKeepsTheStoredImageWithoutAsking() throws Exception {
    String sha = indexed("e-1", "/e1.png", Color.RED, "\"v1\"");
    markFailing();
    images.status("/e1.png", 503);

    ImageReady ready = handle("e-1", "/e1.png");
    assertEquals(sha, ready.getImageSha256());
    assertEquals("images/" + sha, ready.getObjectKey());
    assertEquals(1, images.hits("/e1.png"), "a host marked failing is not asked");
    assertEquals(1.0, keptStale(ProductImageHandler.HOST_FAILING));
    assertTrue(failingHosts.skip(TENANT, host()), "still failing: nothing reached the host");
  }

  @Test
  void aConditionalRefreshTheHostCannotAnswerKeepsTheStoredImageAtOnceAndFewAreAsked() throws Exception {
    String[] shas = new String[4];
    Color[] colors = {Color.RED, Color.GREEN, Color.BLUE, Color.CYAN};
    for (int i = 0; i < 4; i++) {
      shas[i] = indexed("e-" + i, "/e" + i + ".png", colors[i], "\"v" + i + "\"");
      images.status("/e" + i + ".png", 503);
    }

    for (int i = 0; i < 3; i++) {
      // Returns, not RetriableProcessingException: no round of the loop, no pause of other tenants.
      assertEquals(shas[i], handle("e-" + i, "/e" + i + ".png").getImageSha256());
      assertEquals(2, images.hits("/e" + i + ".png"), "one conditional GET, no further rounds");
      assertEquals(0, budget.rounds("catalog.products-0@" + (offset - 1)), "no retry budget spent");
    }
    assertEquals(3.0, keptStale(ProductImageHandler.HOST_UNAVAILABLE));
    assertEquals(shas[3], handle("e-3", "/e3.png").getImageSha256());
    assertEquals(1, images.hits("/e3.png"), "three failed refreshes: the host is not asked for the fourth");
    assertEquals(1.0, keptStale(ProductImageHandler.HOST_FAILING));
    assertFalse(failingHosts.skip(TENANT, host()), "failed refreshes alone never dead-letter a new product");
    assertTrue(states.get(TENANT, "e-0").orElseThrow().hasValidators(), "state kept for the next conditional GET");
  }

  @Test
  void aNotModifiedAnswerToTheProbeClearsTheHost() throws Exception {
    String sha = indexed("e-1", "/e1.png", Color.RED, "\"v1\"");
    markFailing();
    now.addAndGet(Duration.ofSeconds(61).toNanos());

    assertEquals(sha, handle("e-1", "/e1.png").getImageSha256());
    assertEquals(1, images.notModified("/e1.png"), "the due probe was a conditional GET");
    assertFalse(failingHosts.skip(TENANT, host()), "the host answered: it works again");
  }

  @Test
  void aConditionalRefreshAnsweredNotFoundIsStillDeadLetteredAndTheStateKept() throws Exception {
    indexed("e-1", "/e1.png", Color.RED, "\"v1\"");
    ImageState before = states.get(TENANT, "e-1").orElseThrow();
    images.status("/e1.png", 404);

    PoisonRecordException e = assertThrows(PoisonRecordException.class, () -> handle("e-1", "/e1.png"));
    assertEquals("image-fetch-not-found", e.reason());
    assertEquals(before, states.get(TENANT, "e-1").orElseThrow(), "the indexed image stays");
  }

  @Test
  void aNewProductOfADownHostStillSpendsItsBudgetAndIsDeadLetteredAtOnceWhenTheHostIsMarked() throws Exception {
    images.status("/new.png", 503);
    assertThrows(RetriableProcessingException.class, () -> handle("n-1", "/new.png"));
    assertEquals(1, budget.rounds("catalog.products-0@0"));

    markFailing();
    PoisonRecordException e = assertThrows(PoisonRecordException.class, () -> handle("n-2", "/new.png"));
    assertEquals("image-host-unavailable", e.reason());
    assertEquals(1, images.hits("/new.png"), "the marked host was not asked for the second product");
  }

  @Test
  void aConditionalRefreshTheHostAnswersTooSlowlyKeepsTheStoredImage() throws Exception {
    String sha = indexed("e-1", "/e1.png", Color.RED, "\"v1\"");
    images.trickle("/e1.png");

    // A price change of an indexed product is not dead-lettered for one slow answer.
    assertEquals(sha, handle("e-1", "/e1.png").getImageSha256());
    assertEquals(1.0, keptStale(ProductImageHandler.HOST_UNAVAILABLE));
    assertEquals(0, budget.rounds("catalog.products-0@" + (offset - 1)), "no retry budget spent");
  }

  @Test
  void aNewProductWhoseServerIsTooSlowIsAskedAgainInLaterRoundsBeforeItIsDeadLettered() throws Exception {
    images.trickle("/slow.png");
    for (int round = 1; round < budget.maxRounds(); round++) {
      offset = 0; // the same record, handled again
      assertThrows(RetriableProcessingException.class, () -> handle("n-1", "/slow.png"), "round " + round);
    }
    offset = 0;
    PoisonRecordException e = assertThrows(PoisonRecordException.class, () -> handle("n-1", "/slow.png"));
    assertEquals("image-fetch-timeout", e.reason(), e.getMessage());
    assertTrue(e.getMessage().contains(budget.maxRounds() + " rounds"), e.getMessage());
    assertEquals(budget.maxRounds(), images.hits("/slow.png"));
  }

  @Test
  void slowImagesThatUseUpTheirRoundsDoNotMarkTheHostFailingForItsOtherImages() throws Exception {
    // Three large images served too slowly, each out of rounds at once (a budget of one round).
    ImageSource source = new ImageSource(fetcher, ValidationPolicy.defaults(), store,
        tracing.tracer(), metrics, network, Duration.ofDays(7), java.time.Clock.systemUTC());
    handler = new ProductImageHandler(states, store, source, new RetryBudget(1), failingHosts, network, metrics);
    for (int i = 0; i < 3; i++) {
      images.trickle("/large-" + i + ".png");
      int n = i;
      assertEquals("image-fetch-timeout", assertThrows(PoisonRecordException.class,
          () -> handle("large-" + n, "/large-" + n + ".png")).reason());
    }
    assertFalse(failingHosts.skip(TENANT, host()), "the host answered each time, only slowly");
    indexed("small", "/small.png", Color.RED, null);
  }

  @Test
  void whileSeveralHostsAreUnreachableAndNoneAnswersNewProductsWaitWithoutSpendingTheirRetries() throws Exception {
    List<String> links = refusingLinks(3);
    // Three tenants' products: our egress down fails them all alike.
    assertThrows(RetriableProcessingException.class, () -> handleLink("shop-0", "d-0", links.get(0), 100));
    assertThrows(RetriableProcessingException.class, () -> handleLink("shop-1", "d-1", links.get(1), 101));
    assertEquals(1, budget.rounds("catalog.products-0@100"), "one unreachable host: its failure, as before");
    now.addAndGet(Duration.ofSeconds(1).toNanos());
    assertThrows(RetriableProcessingException.class, () -> handleLink("shop-2", "d-2", links.get(2), 102));
    assertEquals(0, budget.rounds("catalog.products-0@102"), "the third host unreachable: our way out looks down");

    // Our egress is down for longer than the products' whole budget: nothing is dead-lettered.
    for (int round = 0; round < 2 * budget.maxRounds(); round++) {
      now.addAndGet(Duration.ofSeconds(5).toNanos());
      for (int i = 0; i < 3; i++) {
        int p = i;
        assertThrows(RetriableProcessingException.class, () -> handleLink("shop-" + p, "d-" + p, links.get(p), 100 + p));
      }
    }
    assertEquals(1, budget.rounds("catalog.products-0@100"));
    assertEquals(0, budget.rounds("catalog.products-0@102"));

    // A host answers: the way out works, and an unreachable host is that host's failure again.
    indexed("ok", "/ok.png", Color.RED, null);
    assertThrows(RetriableProcessingException.class, () -> handleLink("shop-0", "d-0", links.get(0), 100));
    assertEquals(2, budget.rounds("catalog.products-0@100"));
  }

  @Test
  void aRedirectToAnUnreachableTargetProvesTheWayOutWorks() throws Exception {
    List<String> links = refusingLinks(3);
    assertThrows(RetriableProcessingException.class, () -> handleLink("shop-0", "d-0", links.get(0), 100));
    assertThrows(RetriableProcessingException.class, () -> handleLink("shop-1", "d-1", links.get(1), 101));
    // A third host answers with a redirect whose target cannot be reached: that host answered.
    images.redirect("/moved.png", links.get(2));
    assertThrows(RetriableProcessingException.class, () -> handle("r-0", "/moved.png"));
    assertFalse(network.looksDown());
    assertEquals(1, budget.rounds("catalog.products-0@" + (offset - 1)), "the product spends its round");
  }

  /** Handles the product's record, the same record each round, until it is dead-lettered; the rounds it took. */
  int roundsUntilDeadLettered(String tenant, String sku, String link, long recordOffset) throws Exception {
    for (int round = 1; round < budget.maxRounds(); round++) {
      assertThrows(RetriableProcessingException.class, () -> handleLink(tenant, sku, link, recordOffset),
          sku + " round " + round);
    }
    PoisonRecordException e = assertThrows(PoisonRecordException.class, () -> handleLink(tenant, sku, link, recordOffset));
    assertEquals("image-host-unavailable", e.reason(), e.getMessage());
    return budget.maxRounds();
  }

  @Test
  void aTenantWhoseProductsUsedUpTheirRetriesOnThreeHostsGetsNoRoundsForTheNextHostsFailures() throws Exception {
    // Five differently named dead hosts (wildcard DNS or closed ports): each its own host to the breaker.
    List<String> links = refusingLinks(5);
    for (int i = 0; i < 3; i++) {
      roundsUntilDeadLettered("evil", "e-" + i, links.get(i), 200 + i);
    }
    assertFalse(network.looksDown(), "one tenant's dead hosts are not our way out down");

    for (int i = 3; i < 5; i++) {
      int n = i;
      // Dead-lettered on the first failure: no RetriableProcessingException, no paused partitions.
      PoisonRecordException e = assertThrows(PoisonRecordException.class,
          () -> handleLink("evil", "e-" + n, links.get(n), 200 + n));
      assertEquals("image-host-unavailable", e.reason());
      assertTrue(e.getMessage().contains("image hosts are failing"), e.getMessage());
      assertEquals(0, budget.rounds("catalog.products-0@" + (200 + n)));
    }

    // Another tenant is not judged by them: its products are fetched, and a failure gets its rounds.
    images.image("/other.png", TestImages.png(Color.GREEN), "image/png", null);
    handleLink("other", "o-1", images.url("/other.png"), 300);
    assertEquals(1, images.downloads("/other.png"));
    assertThrows(RetriableProcessingException.class, () -> handleLink("other", "o-2", links.get(4), 301));
    // The tenant's products on a host that answers still index.
    images.image("/evil-ok.png", TestImages.png(Color.BLUE), "image/png", null);
    handleLink("evil", "e-ok", images.url("/evil-ok.png"), 302);
  }

  @Test
  void productsRefusedTheirRoundsByTheTenantsBudgetDoNotGetItsHealthyHostSkipped() throws Exception {
    List<String> links = refusingLinks(3);
    for (int i = 0; i < 3; i++) {
      roundsUntilDeadLettered("evil", "e-" + i, links.get(i), 600 + i);
    }
    // Three blips of the tenant's own working CDN while it is out of retries: each product is
    // dead-lettered at once, having tried once.
    images.status("/blip.png", 503);
    for (int i = 0; i < 3; i++) {
      int n = i;
      assertThrows(PoisonRecordException.class, () -> handleLink("evil", "b-" + n, images.url("/blip.png"), 610 + n));
    }
    images.image("/fine.png", TestImages.png(Color.ORANGE), "image/png", null);
    handleLink("evil", "f-1", images.url("/fine.png"), 620);
    assertEquals(1, images.downloads("/fine.png"), "the CDN is not skipped for the tenant's next product");
  }

  @Test
  void anotherTenantsProductsThatUsedUpTheirRetriesOnASharedHostNeverSkipAProduct() throws Exception {
    images.status("/a.png", 503);
    for (int i = 0; i < 3; i++) {
      roundsUntilDeadLettered("tenant-a", "a-" + i, images.url("/a.png"), 400 + i);
    }
    int askedForA = images.hits("/a.png");
    PoisonRecordException skipped = assertThrows(PoisonRecordException.class,
        () -> handleLink("tenant-a", "a-3", images.url("/a.png"), 403));
    assertTrue(skipped.getMessage().contains("not fetched"), skipped.getMessage());
    assertEquals(askedForA, images.hits("/a.png"), "tenant-a's fourth product on the host is not fetched");

    images.image("/b.png", TestImages.png(Color.MAGENTA), "image/png", null);
    handleLink("tenant-b", "b-1", images.url("/b.png"), 500);
    assertEquals(1, images.downloads("/b.png"), "tenant-b's product on the same host is fetched");
    assertFalse(failingHosts.skip("tenant-a", host()), "the host answered: it works for everyone again");
  }

  /**
   * Links to {@code n} different ports of 127.0.0.1 that refuse connections. The ports are held
   * open together while chosen: one closed before the next is chosen is often handed out again.
   */
  static List<String> refusingLinks(int n) throws Exception {
    List<ServerSocket> held = new ArrayList<>();
    try {
      List<String> links = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
        held.add(s);
        links.add("http://127.0.0.1:" + s.getLocalPort() + "/p.png");
      }
      return links;
    } finally {
      for (ServerSocket s : held) {
        s.close(); // refused from now on
      }
    }
  }

  /** Spans are not what these tests look at. */
  static final class DiscardingExporter implements SpanExporter {
    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode flush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }
}
