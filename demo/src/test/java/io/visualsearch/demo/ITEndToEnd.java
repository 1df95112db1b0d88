package io.visualsearch.demo;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.visualsearch.evaluation.FineTuneMain;
import io.visualsearch.samplecatalog.FashionMnist;
import io.visualsearch.samplecatalog.SampleImageServer;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.HeadlessChromium;
import io.visualsearch.stack.StackExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole pipeline on the real stack — KRaft broker, S3-compatible store, Zipkin, the real model
 * on the model server, FAISS — with two retailers of the Fashion-MNIST sample catalog. Only the
 * public surfaces are used: feed files, catalog-downloader's sync endpoint, search-api's HTTP API
 * and Zipkin's API.
 */
@ExtendWith(StackExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ITEndToEnd {

  static final String ACME_KEY = "acme-e2e-key-0123456789";
  static final String GLOBEX_KEY = "globex-e2e-key-0123456789";
  static final Duration INGEST = Duration.ofMinutes(6);
  static final Duration CHANGE = Duration.ofSeconds(90);

  final HttpClient http = HttpClient.newHttpClient();
  EmbeddedStack stack;
  SampleImageServer images;
  LocalPipeline pipeline;
  SampleShop acme;
  SampleShop globex;
  SearchClient acmeSearch;
  SearchClient globexSearch;
  Path modelBase;
  Map<String, String> serviceEnv;
  // Feeds, the private model base path and the training job's output; JUnit deletes it after the class.
  Path scratch;

  @BeforeAll
  void start(EmbeddedStack stack, @TempDir Path scratch) throws Exception {
    this.stack = stack;
    this.scratch = scratch;
    FashionMnist dataset = FashionMnist.debian();
    assertTrue(dataset.isAvailable(), "Fashion-MNIST is installed by ./visual-search setup");
    images = new SampleImageServer(dataset, 0);
    images.start();
    Path feeds = Files.createDirectories(scratch.resolve("feeds"));
    acme = new SampleShop("acme", feeds.resolve("acme.tsv"), dataset, images.baseUrl(), 60);
    // The same photos under another retailer: identical vectors, so only isolation keeps them apart.
    globex = new SampleShop("globex", feeds.resolve("globex.tsv"), dataset, images.baseUrl(), 30);
    Map<String, String> env = new LinkedHashMap<>(stack.serviceEnvironment());
    serviceEnv = env;
    // A private copy of the model base path: the rollout test publishes a version into it.
    modelBase = Files.createDirectories(scratch.resolve("models"));
    ModelVersions.copy(Path.of(System.getProperty("defaultModelBasePath")).resolve("default/1"),
        modelBase.resolve("default"), 1);
    env.put("MODEL_SERVER_BASE_PATH", modelBase.toString());
    env.put("MODEL_SERVER_POLL_INTERVAL", "500ms");
    env.put("EMBEDDINGS_MODEL_POLL_INTERVAL", "1s");
    env.put("INDEX_BUILDER_MIGRATION_QUIET", "20s");
    env.put("MODEL_SERVER_GRPC_PORT", "0");
    env.put("MODEL_SERVER_REST_PORT", "0");
    env.put("SEARCH_HTTP_PORT", "0");
    env.put("SEARCH_GRPC_PORT", "0");
    env.put("SEARCH_API_KEYS", "acme:" + ACME_KEY + ",globex:" + GLOBEX_KEY);
    env.put("CATALOG_SOURCES", acme.source() + "," + globex.source());
    env.put("CATALOG_SYNC_INTERVAL", "0s");
    env.put("IMAGE_FETCH_ALLOW", "127.0.0.1/32");
    env.put("INDEX_BUILDER_DEBOUNCE_QUIET", "1s");
    // Shards of 25 vectors at most: acme's 60 products are searched in three, globex's 30 in two.
    env.put("INDEX_BUILDER_SHARD_MAX_VECTORS", "25");
    env.put("HEALTH_HEARTBEAT_INTERVAL", "2s");
    pipeline = new LocalPipeline(env);
    pipeline.start();
    URI base = URI.create("http://127.0.0.1:" + pipeline.searchApi().httpPort() + "/");
    acmeSearch = new SearchClient(base, ACME_KEY);
    globexSearch = new SearchClient(base, GLOBEX_KEY);
    sync("acme");
    sync("globex");
  }

  @AfterAll
  void stop() {
    if (pipeline != null) {
      pipeline.close();
    }
    if (images != null) {
      images.close();
    }
  }

  /** What a retailer's sync job does after exporting its feed. */
  void sync(String tenant) throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + pipeline.opsPort("catalog-downloader") + "/sync?tenant=" + tenant);
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
  }

  @Test
  @Order(1)
  void theWholeCatalogBecomesSearchableAndACatalogPhotoFindsItsProductFirst() throws Exception {
    assertTrue(new IngestProbe(acmeSearch, acme, acme.size()).await(INGEST, p -> { }),
        "every acme product must be found first with its own photo");
    assertTrue(new IngestProbe(globexSearch, globex, globex.size()).await(INGEST, p -> { }),
        "every globex product must be found first with its own photo");
    SearchClient.Answer a = acmeSearch.search(acme.catalogImage(7), 5);
    SearchClient.Hit first = a.results().get(0);
    assertEquals(SampleShop.sku(7), first.sku());
    assertEquals(acme.field(first.sku(), "title"), first.title());
    assertEquals(acme.field(first.sku(), "link"), first.link());
    assertEquals(acme.field(first.sku(), "image_link"), first.imageLink());
    assertEquals(1, a.modelVersion());
    assertFalse(a.indexVersion().isEmpty());
  }

  @Test
  @Order(2)
  void retailersNeverSeeEachOthersProducts() throws Exception {
    for (int i = 0; i < 30; i += 3) {
      for (SearchClient.Hit h : acmeSearch.search(acme.catalogImage(i), 50).results()) {
        assertTrue(h.link().contains("/shop/acme/"), "acme saw " + h);
      }
      for (SearchClient.Hit h : globexSearch.search(globex.catalogImage(i), 50).results()) {
        assertTrue(h.link().contains("/shop/globex/"), "globex saw " + h);
      }
    }
    assertEquals(30, globexSearch.search(globex.catalogImage(0), 100).results().size(),
        "globex's answer holds globex's 30 products, none of acme's 60");
  }

  @Test
  @Order(3)
  void aPriceChangeInTheFeedShowsUpInAnswers() throws Exception {
    String sku = SampleShop.sku(11);
    acme.set(sku, "price", "123.45 USD");
    acme.set(sku, "sale_price", "");
    sync("acme");
    await().atMost(CHANGE).pollInterval(Duration.ofMillis(500)).until(() -> {
      SearchClient.Hit first = acmeSearch.search(acme.catalogImage(11), 1).results().get(0);
      return first.sku().equals(sku) && first.price().startsWith("123.45");
    });
    SearchClient.Hit other = globexSearch.search(globex.catalogImage(11), 1).results().get(0);
    assertEquals(sku, other.sku());
    assertFalse(other.price().startsWith("123.45"), "globex's price of its own " + sku + " is untouched");

    // The change also comes back through image-indexer and the generator as an embedding of the
    // same image: search-api must not hold it as a fresh vector (the index already has it), or a
    // nightly price update would have it search the whole catalog exactly until the next build.
    await().atMost(CHANGE).pollInterval(Duration.ofMillis(500)).until(() -> embeddingsOf("acme/" + sku) >= 2);
    await().during(Duration.ofSeconds(5)).atMost(CHANGE).pollInterval(Duration.ofMillis(500))
        .until(() -> freshDeltaEntries() == 0);
  }

  /** How many records the embeddings topic holds for a product key. */
  long embeddingsOf(String key) {
    Map<String, Object> props = Map.of("bootstrap.servers", stack.kafkaBootstrapServers(), "group.id",
        "e2e-reader-" + System.nanoTime(), "auto.offset.reset", "earliest", "enable.auto.commit", "false");
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      List<TopicPartition> parts = c.partitionsFor("embeddings").stream()
          .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> ends = c.endOffsets(parts);
      long found = 0;
      while (parts.stream().anyMatch(p -> c.position(p) < ends.get(p))) {
        for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
          if (r.key() != null && new String(r.key(), StandardCharsets.UTF_8).equals(key)) {
            found++;
          }
        }
      }
      return found;
    }
  }

  /** search-api's fresh vectors and deletions, over all tenants (its /metrics gauge). */
  double freshDeltaEntries() throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + pipeline.opsPort("search-api") + "/metrics");
    String body = http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()).body();
    return body.lines().filter(l -> l.startsWith("search_fresh_delta_entries "))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.indexOf(' ') + 1).trim())).findFirst()
        .orElseThrow(() -> new AssertionError("no search_fresh_delta_entries in /metrics"));
  }

  @Test
  @Order(4)
  void aProductRemovedFromTheFeedIsNeverReturnedAgain() throws Exception {
    String sku = SampleShop.sku(5);
    acme.remove(sku);
    sync("acme");
    await().atMost(CHANGE).pollInterval(Duration.ofMillis(500))
        .until(() -> acmeSearch.search(acme.catalogImage(5), 20).results().stream().noneMatch(h -> h.sku().equals(sku)));
    for (int i = 0; i < 10; i++) {
      List<SearchClient.Hit> hits = acmeSearch.search(acme.catalogImage(5), 60).results();
      assertTrue(hits.stream().noneMatch(h -> h.sku().equals(sku)), "removed " + sku + " came back: " + hits);
      assertEquals(acme.size(), hits.size(), "every remaining acme product is still searchable");
    }
    assertEquals(sku, globexSearch.search(globex.catalogImage(5), 1).results().get(0).sku(),
        "acme's removal does not touch globex");
  }

  @Test
  @Order(5)
  void oneProductIsOneTraceFromFeedRowToItsSearchableVector() throws Exception {
    ZipkinTraces zipkin = new ZipkinTraces(stack.zipkin().baseUrl());
    String sku = SampleShop.sku(3);
    // Both tenants' sku-3 show the same photo, embedded once: the product whose record made the
    // model call has the whole chain, the other one's embedding is shared (embedding.cached).
    JsonNode trace = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).until(() -> {
      for (String tenant : List.of("acme", "globex")) {
        for (JsonNode t : zipkin.find("catalog-downloader", "sku=" + sku + " and tenant=" + tenant)) {
          // search-api's span is the vector entering its fresh delta: searchable from then on.
          if (ZipkinTraces.services(t).containsAll(Set.of("catalog-downloader", "image-indexer",
              "embeddings-generator", "model-server", "search-api"))) {
            return t;
          }
        }
      }
      return null;
    }, t -> t != null);
    assertEquals(1, ZipkinTraces.orphans(trace).size(), "one root, every other span parent-linked: "
        + ZipkinTraces.orphans(trace));
  }

  @Test
  @Order(6)
  void aQueryIsOneTraceThroughSearchApiAndTheModelServer() throws Exception {
    ZipkinTraces zipkin = new ZipkinTraces(stack.zipkin().baseUrl());
    // An answer from the version acme is served from, whose shards are known (a swap between the two
    // is waited out). A query of k=5 on ~60 products is answered in one round, which searches each
    // shard holding vectors once (search-api's IndexSearcher, a span "search shard <n>" each).
    ServedAnswer served = await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
        .until(() -> servedAnswer("acme", acmeSearch, acme.catalogImage(2), 5),
            a -> a.version().equals(a.answer().indexVersion()));
    assertTrue(served.shardsWithVectors().size() > 1, "acme's 60 products are in shards of 25: " + served);
    String traceId = served.answer().traceId();
    assertNotNull(traceId);
    // Until search-api's last span of the search (the merge, which ends after every shard's) is in.
    JsonNode trace = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
        .until(() -> zipkin.trace(traceId), t -> ZipkinTraces.services(t).containsAll(Set.of("search-api", "model-server"))
            && ZipkinTraces.tag(t, "merge", "results") != null);
    assertEquals(1, ZipkinTraces.orphans(trace).size(), ZipkinTraces.orphans(trace).toString());
    List<String> searchedShards = new ArrayList<>();
    for (JsonNode span : trace) {
      if (span.path("name").asText().startsWith("search shard")) {
        assertEquals(served.version(), span.path("tags").path("index.version").asText(), "a shard of " + span);
        searchedShards.add(span.path("tags").path("shard").asText());
      }
    }
    searchedShards.sort(Comparator.comparingInt(Integer::parseInt));
    assertEquals(served.shardsWithVectors(), searchedShards,
        "the query's trace has one span per shard of " + served.version() + " searched: " + trace);
  }

  /** An answer, and the version its tenant was served from just before it with that version's shards holding vectors. */
  record ServedAnswer(String version, List<String> shardsWithVectors, SearchClient.Answer answer) {}

  ServedAnswer servedAnswer(String tenant, SearchClient client, byte[] image, int k) throws Exception {
    String version;
    List<String> shardsWithVectors = new ArrayList<>();
    try (var lease = pipeline.searchApi().indexes().acquire(tenant).orElseThrow()) {
      version = lease.index().version();
      for (int s = 0; s < lease.index().shards().size(); s++) {
        if (lease.index().shards().get(s).ntotal() > 0) {
          shardsWithVectors.add(Integer.toString(s));
        }
      }
    }
    return new ServedAnswer(version, shardsWithVectors, client.search(image, k));
  }

  @Test
  @Order(7)
  void aModelRolloutNeverMixesVersionsAndNeverFailsAQuery() throws Exception {
    assertEquals(1, acmeSearch.search(acme.catalogImage(1), 1).modelVersion());
    RolloutWatch watch = new RolloutWatch(List.of(acmeSearch, globexSearch), List.of(acme, globex), 20);
    watch.start();
    try {
      // The training job, small: a head fine-tuned on acme's live catalog (categories from its product
      // events, pictures from the object store) on top of version 1's frozen backbone, checked for
      // parity and renamed into place as version 2.
      Path training = Files.createDirectories(scratch.resolve("finetune"));
      FineTuneMain.run(new String[] {"--catalog-tenant", "acme", "--base-path", modelBase.resolve("default").toString(),
          "--version", "2", "--out", training.resolve("report").toString(), "--cache", training.resolve("cache").toString(),
          "--epochs", "24", "--select-every", "12", "--hidden", "96", "--dim", "16", "--instance-dim", "16"}, serviceEnv);
      assertTrue(Files.readString(training.resolve("report/training.md")).contains("live catalog of tenant acme"));
      assertTrue(Files.isRegularFile(modelBase.resolve("default/2/saved_model.pb")), "training published version 2");
      await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1))
          .until(() -> watch.sawVersion("acme", 2) && watch.sawVersion("globex", 2));
      // Keep querying a while on the new version: nothing may flip back.
      watch.queries(200);
    } finally {
      watch.stop();
    }
    assertEquals(List.of(), watch.failures(), "no query fails during a rollout");
    // An answer's model_version is its index's; the version the query photo was embedded with is
    // in its trace ("embed query"). Never another: a query vector is compared only with its own model's.
    ZipkinTraces zipkin = new ZipkinTraces(stack.zipkin().baseUrl());
    List<RolloutWatch.Sample> samples = watch.samples();
    assertTrue(samples.stream().map(RolloutWatch.Sample::modelVersion).distinct().count() >= 2,
        "answers from both model versions were sampled: " + samples);
    for (RolloutWatch.Sample s : samples) {
      String embeddedWith = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
          .ignoreExceptions().until(() -> ZipkinTraces.tag(zipkin.trace(s.traceId()), "embed query", "model.version"),
              v -> v != null);
      assertEquals(Long.toString(s.modelVersion()), embeddedWith, s + ": the query was embedded by another model");
    }
    assertEquals(List.of(), watch.wentBack(), "once a tenant answers from version 2 it never answers from 1 again");
    assertEquals(List.of(), watch.wrongFirst(), "each catalog photo finds its product first, on both versions");
    SearchClient.Answer after = acmeSearch.search(acme.catalogImage(9), 1);
    assertEquals(2, after.modelVersion());
    // The new version is the trained head (posteriors over acme's 10 categories + a 16-d instance face),
    // not the 768-d backbone.
    try (var lease = pipeline.searchApi().indexes().acquire("acme").orElseThrow()) {
      assertEquals(26, lease.index().dimension());
    }
    assertEquals(SampleShop.sku(9), after.results().get(0).sku());
  }

  @Test
  @Order(8)
  void theHealthPageListsEveryServiceAndShowsAStoppedOneStopped() throws Exception {
    List<String> services = List.of("model-server", "catalog-downloader", "image-indexer", "embeddings-generator",
        "index-builder", "search-api", "response-consumer");
    String page = "http://127.0.0.1:" + pipeline.searchApi().httpPort() + "/ops/health";
    try (HeadlessChromium chromium = HeadlessChromium.start()) {
      ChromeDriver browser = chromium.browser();
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions().until(() -> {
        browser.get(page);
        Map<String, WebElement> rows = healthRows(browser);
        return rows.keySet().containsAll(services) && services.stream().allMatch(s ->
            rows.get(s).getAttribute("data-state").equals("healthy")
                && !rows.get(s).findElements(By.cssSelector("svg.spark rect")).isEmpty());
      });

      pipeline.stop("response-consumer");
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions().until(() -> {
        browser.get(page);
        return healthRows(browser).get("response-consumer").getAttribute("data-state").equals("stopped");
      });
      Map<String, WebElement> rows = healthRows(browser);
      for (String s : services) {
        if (!s.equals("response-consumer")) {
          assertEquals("healthy", rows.get(s).getAttribute("data-state"), s + " keeps running");
        }
      }
      JsonNode json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(http.send(
          HttpRequest.newBuilder(URI.create(page + ".json")).build(), HttpResponse.BodyHandlers.ofString()).body());
      Map<String, JsonNode> byService = new LinkedHashMap<>();
      json.get("instances").forEach(i -> byService.put(i.get("service").asText(), i));
      assertEquals(Set.copyOf(healthRows(browser).keySet()), byService.keySet(), "the JSON lists what the page lists");
      JsonNode stopped = byService.get("response-consumer");
      assertEquals("stopped", stopped.get("state").asText(), "stopped on request, not stale as a crash would be");
      WebElement stoppedRow = healthRows(browser).get("response-consumer");
      assertEquals(stopped.get("activity_total").asText(), stoppedRow.findElements(By.tagName("td")).get(3).getText(),
          "a stopped instance's activity is frozen, and the page and the JSON show the same count");
      assertTrue(stoppedRow.findElement(By.linkText("traces")).getAttribute("href")
          .contains("/zipkin/?serviceName=response-consumer"));
    }
  }

  /** One row per service in this test (one instance each), keyed by service name. */
  static Map<String, WebElement> healthRows(ChromeDriver browser) {
    Map<String, WebElement> rows = new LinkedHashMap<>();
    for (WebElement row : browser.findElements(By.cssSelector("#health tbody tr"))) {
      rows.put(row.getAttribute("data-service"), row);
    }
    return rows;
  }
}
