package io.visualsearch.searchapi;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.visualsearch.imagevalidation.HostileImages;
import io.visualsearch.pipeline.PipelineHeaders;
import io.visualsearch.proto.events.SearchResponseEvent;
import io.visualsearch.proto.search.ProductResult;
import io.visualsearch.proto.search.SearchReply;
import io.visualsearch.proto.search.SearchRequest;
import io.visualsearch.proto.search.VisualSearchGrpc;
import io.visualsearch.searchapi.similar.SimilarItemsFile;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.StackExtension;
import io.visualsearch.topics.Topics;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/** search-api against the real stack: Kafka, S3-compatible store, FAISS, gRPC model protocol. */
@ExtendWith(StackExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ITSearchApi {

  static final String ACME_KEY = "acme-key-0123456789abcdef";
  static final String GLOBEX_KEY = "globex-key-0123456789abcdef";
  static final Color[] COLORS = {Color.RED, Color.GREEN, Color.BLUE, Color.YELLOW, Color.MAGENTA, Color.CYAN,
      Color.ORANGE, Color.PINK, Color.DARK_GRAY, new Color(120, 60, 20), new Color(20, 90, 60), new Color(90, 20, 120)};
  static final String[] NAMES = {"red", "green", "blue", "yellow", "magenta", "cyan", "orange", "pink", "gray",
      "brown", "teal", "purple"};

  final ObjectMapper json = new ObjectMapper();
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  TinyModelServer model;
  StackFixture fx;
  String base;
  final Map<String, Map<String, float[]>> vectors = new LinkedHashMap<>();
  int versionCounter;

  @BeforeAll
  void start(EmbeddedStack stack) throws Exception {
    // Queries are embedded by the real model server, on a tiny SavedModel.
    model = new TinyModelServer();
    Map<String, String> env = new HashMap<>(model.env());
    env.putAll(Map.of("SEARCH_API_KEYS", "acme:" + ACME_KEY + ",globex:" + GLOBEX_KEY,
        "SEARCH_INDEX_POLL_INTERVAL", "2s", "KAFKA_GROUP_ID", "it-search-api"));
    fx = new StackFixture(stack, env);
    for (String tenant : List.of("acme", "globex")) {
      Map<String, float[]> v = new LinkedHashMap<>();
      for (int i = 0; i < COLORS.length; i++) {
        String sku = tenant + "-" + NAMES[i];
        // Globex shoots on grey, acme on white: the same colour is a different product per tenant.
        Color bg = tenant.equals("acme") ? Color.WHITE : Color.LIGHT_GRAY;
        fx.upsertProduct(tenant, sku, tenant + " " + NAMES[i] + " shirt", i % 2 == 0 ? "Apparel > Shirts" : "Apparel > Bags",
            (i + 1) * 10_000_000L, "in stock");
        float[] e = fx.embed(TestImages.picture(64, 64, bg, COLORS[i]));
        fx.sendEmbedding(tenant, sku, e, 1);
        v.put(sku, e);
      }
      vectors.put(tenant, v);
      fx.publication.publish(tenant, nextVersion(), 1, v, 2, fx.embeddingsEnd());
    }
    fx.startService();
    base = "http://127.0.0.1:" + fx.service.httpPort();
    await().atMost(Duration.ofSeconds(60)).until(() -> get("/readyz", null).statusCode() == 200);
  }

  @AfterAll
  void stop() throws Exception {
    if (fx != null) {
      fx.close();
    }
    if (model != null) {
      model.close();
    }
  }

  /** The heartbeat's activity count, as search-api's /metrics exposes it. */
  double activityTotal() throws Exception {
    String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + fx.service.opsPort()
        + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
    return metrics.lines().filter(l -> l.startsWith("pipeline_activity_total ")).mapToDouble(
        l -> Double.parseDouble(l.substring(l.indexOf(' ') + 1).trim())).findFirst()
        .orElseThrow(() -> new AssertionError("no pipeline_activity_total in " + metrics));
  }

  List<String> similarSkus(String sku, int k) throws Exception {
    return similarSkus(sku, k, "");
  }

  /** {@code moreParameters}: "&name=value..." after k. */
  List<String> similarSkus(String sku, int k, String moreParameters) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/products/" + sku
        + "/similar?k=" + k + moreParameters)).header("Authorization", "Bearer " + ACME_KEY).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    List<String> skus = new ArrayList<>();
    json.readTree(r.body()).get("results").forEach(h -> skus.add(h.get("sku").asText()));
    return skus;
  }

  String nextVersion() {
    versionCounter++;
    return String.format("20250101T%06dZ-v%d", versionCounter, versionCounter);
  }

  // ---------------------------------------------------------------- the query path

  @Test
  @Order(1)
  void aPhotoOfAProductFindsItFirstWithItsCatalogData() throws Exception {
    byte[] photo = TestImages.jpeg(300, 240, Color.WHITE, Color.BLUE);
    HttpResponse<String> r = search(ACME_KEY, photo, Map.of("k", "5"));
    assertEquals(200, r.statusCode(), r.body());
    JsonNode body = json.readTree(r.body());
    JsonNode first = body.get("results").get(0);
    assertEquals("acme-blue", first.get("sku").asText());
    assertEquals("acme blue shirt", first.get("title").asText());
    assertEquals("30.00 USD", first.get("price").asText());
    // What a storefront computes with; "price" is for display, its format the currency's.
    assertEquals("30000000", first.get("price_micros").asText());
    assertTrue(first.get("price_micros").isTextual(), "a string: past 2^53 a JavaScript number rounds");
    assertEquals("USD", first.get("currency").asText());
    assertEquals("https://acme.example/p/acme-blue", first.get("link").asText());
    assertEquals("https://acme.example/img/acme-blue.jpg", first.get("image_link").asText());
    assertEquals("Apparel > Shirts", first.get("category").asText());
    assertEquals(5, body.get("results").size());
    assertEquals("20250101T000001Z-v1", body.get("index_version").asText());
    assertEquals(1, body.get("model_version").asLong());
    String traceId = body.get("trace_id").asText();
    assertEquals(32, traceId.length());
    assertEquals(traceId, r.headers().firstValue("X-Trace-Id").orElseThrow());
  }

  @Test
  @Order(2)
  void jsonRequestsWithCropAndFiltersWork() throws Exception {
    // A wide photo: the shopper crops to the product on the right.
    BufferedImage wide = new BufferedImage(400, 200, BufferedImage.TYPE_INT_RGB);
    var g = wide.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, 400, 200);
    g.drawImage(TestImages.picture(200, 200, Color.WHITE, Color.RED), 0, 0, null);
    g.drawImage(TestImages.picture(200, 200, Color.WHITE, Color.GREEN), 200, 0, null);
    g.dispose();
    String b64 = Base64.getEncoder().encodeToString(TestImages.encode(wide, "png"));
    HttpResponse<String> r = post("/api/v1/search", ACME_KEY, "application/json",
        ("{\"image_base64\":\"" + b64 + "\",\"k\":3,\"crop\":{\"x\":200,\"y\":0,\"w\":200,\"h\":200}}")
            .getBytes(StandardCharsets.UTF_8));
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("acme-green", json.readTree(r.body()).get("results").get(0).get("sku").asText());

    // Green is a "Bags" product; filtering on Shirts under 50 must never return it.
    r = post("/api/v1/search", ACME_KEY, "application/json", ("{\"image_base64\":\"" + b64 + "\",\"k\":10,"
        + "\"crop\":\"200,0,200,200\",\"filters\":{\"category\":\"shirts\",\"max_price\":\"50\"}}")
        .getBytes(StandardCharsets.UTF_8));
    assertEquals(200, r.statusCode(), r.body());
    JsonNode results = json.readTree(r.body()).get("results");
    assertEquals(3, results.size(), "shirts at 10, 30 and 50 USD");
    for (JsonNode h : results) {
      assertEquals("Apparel > Shirts", h.get("category").asText());
    }
  }

  @Test
  @Order(3)
  void tenantsNeverSeeEachOthersProducts() throws Exception {
    byte[] photo = TestImages.jpeg(100, 100, Color.WHITE, Color.RED);
    JsonNode globex = json.readTree(search(GLOBEX_KEY, photo, Map.of("k", "20")).body()).get("results");
    assertEquals(NAMES.length, globex.size(), "all of globex's products, and none of acme's: " + globex);
    for (JsonNode h : globex) {
      assertTrue(h.get("sku").asText().startsWith("globex-"), h.toString());
    }
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/products/globex-red/similar"))
        .header("Authorization", "Bearer " + ACME_KEY).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(404, r.statusCode(), "acme must not learn that globex has this product: " + r.body());
  }

  @Test
  @Order(4)
  void everyAnsweredQueryIsPublishedWithItsTraceContext() throws Exception {
    HttpResponse<String> r = search(ACME_KEY, TestImages.jpeg(80, 80, Color.WHITE, Color.CYAN), Map.of("k", "2"));
    String traceId = json.readTree(r.body()).get("trace_id").asText();
    ConsumerRecord<byte[], byte[]> record = publishedRecord(traceId);
    SearchResponseEvent found = SearchResponseEvent.parseFrom(record.value());
    assertEquals("acme", found.getTenant());
    assertEquals("acme-cyan", found.getHits(0).getSku());
    assertEquals(2, found.getK());
    assertEquals("acme/" + found.getRequestId(), new String(record.key(), StandardCharsets.UTF_8),
        "each answer its own key, so one tenant's answers are archived side by side");
    // The client is told the id its answer is archived under (responses/acme/<id>.json).
    assertEquals(found.getRequestId(), json.readTree(r.body()).get("request_id").asText());
    assertEquals(found.getRequestId(), r.headers().firstValue("X-Request-Id").orElseThrow());
    assertEquals("acme", PipelineHeaders.get(record.headers(), PipelineHeaders.TENANT));
    assertTrue(PipelineHeaders.get(record.headers(), "traceparent").contains(traceId));
  }

  /** The search.responses record of the query traced {@code traceId}; fails after 30 s without one. */
  private ConsumerRecord<byte[], byte[]> publishedRecord(String traceId) throws Exception {
    Properties p = new Properties();
    p.put("bootstrap.servers", fx.stack.kafkaBootstrapServers());
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts = c.partitionsFor(Topics.SEARCH_RESPONSES.name()).stream()
          .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> rec : c.poll(Duration.ofMillis(200))) {
          if (SearchResponseEvent.parseFrom(rec.value()).getTraceId().equals(traceId)) {
            return rec;
          }
        }
      }
    }
    throw new AssertionError("no search.responses record for trace " + traceId);
  }

  @Test
  @Order(5)
  void grpcAnswersLikeHttpWithStatusCodes() throws Exception {
    double activityBefore = activityTotal();
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", fx.service.grpcPort()).usePlaintext().build();
    try {
      Metadata md = new Metadata();
      md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + ACME_KEY);
      var stub = VisualSearchGrpc.newBlockingStub(ch).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
          .withDeadlineAfter(30, TimeUnit.SECONDS);
      SearchReply reply = stub.search(SearchRequest.newBuilder()
          .setImage(com.google.protobuf.ByteString.copyFrom(TestImages.jpeg(90, 90, Color.WHITE, Color.ORANGE)))
          .setK(3).build());
      assertEquals("acme-orange", reply.getResults(0).getSku());
      assertTrue(reply.getResults(0).getPriceMicros() > 0 && reply.getResults(0).getCurrency().equals("USD"),
          reply.getResults(0).toString());
      assertEquals(32, reply.getTraceId().length());
      SearchResponseEvent published = SearchResponseEvent.parseFrom(publishedRecord(reply.getTraceId()).value());
      assertEquals("acme-orange", published.getHits(0).getSku(), "gRPC answers are archived like HTTP's");
      assertEquals(published.getRequestId(), reply.getRequestId(), "the id its answer is archived under");
      // max_price_micros set to 0 is a bound ("free only"), as HTTP's max_price=0: every product here has a price.
      assertEquals(0, stub.search(SearchRequest.newBuilder()
          .setImage(com.google.protobuf.ByteString.copyFrom(TestImages.jpeg(90, 90, Color.WHITE, Color.ORANGE)))
          .setFilters(io.visualsearch.proto.search.Filters.newBuilder().setMaxPriceMicros(0)).setK(3).build())
          .getResultsCount());
      assertEquals(3, published.getK());
      StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
          () -> stub.search(SearchRequest.newBuilder().setImage(com.google.protobuf.ByteString.copyFromUtf8("x"))
              .setK(1000).build()));
      assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
      assertTrue(e.getStatus().getDescription().startsWith("invalid_k"));
      // As HTTP's X-Trace-Id, for the SRE the failure is reported to; no pushback: waiting mends no bad request.
      assertEquals(32, e.getTrailers().get(Metadata.Key.of("x-trace-id", Metadata.ASCII_STRING_MARSHALLER)).length());
      assertEquals(null, e.getTrailers().get(Metadata.Key.of("grpc-retry-pushback-ms", Metadata.ASCII_STRING_MARSHALLER)));
      // Filters are bounded as over HTTP: a megabyte brand would travel on in the archived answer.
      StatusRuntimeException longBrand = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
          () -> stub.search(SearchRequest.newBuilder()
              .setImage(com.google.protobuf.ByteString.copyFrom(TestImages.jpeg(90, 90, Color.WHITE, Color.ORANGE)))
              .setFilters(io.visualsearch.proto.search.Filters.newBuilder().setBrand("b".repeat(1_000_000)))
              .setK(3).build()));
      assertEquals(Status.Code.INVALID_ARGUMENT, longBrand.getStatus().getCode());
      assertTrue(longBrand.getStatus().getDescription().startsWith("invalid_filters"),
          longBrand.getStatus().getDescription());
      // A newer client's filter (field 99 here) is refused, not dropped into an unfiltered answer.
      StatusRuntimeException newer = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
          () -> stub.search(SearchRequest.newBuilder()
              .setImage(com.google.protobuf.ByteString.copyFrom(TestImages.jpeg(90, 90, Color.WHITE, Color.ORANGE)))
              .setFilters(io.visualsearch.proto.search.Filters.newBuilder().setUnknownFields(
                  com.google.protobuf.UnknownFieldSet.newBuilder().addField(99,
                      com.google.protobuf.UnknownFieldSet.Field.newBuilder().addVarint(1).build()).build()))
              .setK(3).build()));
      assertEquals(Status.Code.INVALID_ARGUMENT, newer.getStatus().getCode());
      assertTrue(newer.getStatus().getDescription().startsWith("unknown_filter"), newer.getStatus().getDescription());
      StatusRuntimeException anon = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
          () -> VisualSearchGrpc.newBlockingStub(ch).search(SearchRequest.getDefaultInstance()));
      assertEquals(Status.Code.UNAUTHENTICATED, anon.getStatus().getCode());
      // The health page counts gRPC answers as it counts HTTP's: the search and the refused k.
      assertTrue(activityTotal() - activityBefore >= 2, "gRPC calls are search-api's activity");
    } finally {
      ch.shutdownNow();
    }
  }

  @Test
  @Order(6)
  void similarItemsComeFromThePrecomputedFileWithCurrentCatalogData() throws Exception {
    // acme-gone left the catalog; acme-withdrawn is in it, but its vector is deleted after the build.
    fx.upsertProduct("acme", "acme-withdrawn", "acme withdrawn shirt", "Apparel > Shirts", 5_000_000L, "in stock");
    SimilarItemsFile file = new SimilarItemsFile("acme", "acme-red", "20250101T000001Z-v1", 1, 0,
        List.of(new SimilarItemsFile.Item("acme-pink", 0.9f), new SimilarItemsFile.Item("acme-orange", 0.8f),
            new SimilarItemsFile.Item("acme-gone", 0.7f), new SimilarItemsFile.Item("acme-withdrawn", 0.65f),
            new SimilarItemsFile.Item("acme-magenta", 0.6f)));
    fx.store.put(SimilarItemsFile.key("acme", "acme-red"), json.writeValueAsBytes(file), "application/json");
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/products/acme-red/similar?k=2"))
        .header("Authorization", "Bearer " + ACME_KEY).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    JsonNode results = json.readTree(r.body()).get("results");
    assertEquals(2, results.size());
    assertEquals("acme-pink", results.get(0).get("sku").asText());
    assertEquals("acme pink shirt", results.get(0).get("title").asText());
    assertEquals("in_stock", results.get(0).get("availability").asText(), "in the catalog's spelling");
    assertEquals("Acme", results.get(0).get("brand").asText());
    await().atMost(Duration.ofSeconds(30)).until(() -> similarSkus("acme-red", 5).equals(
        List.of("acme-pink", "acme-orange", "acme-withdrawn", "acme-magenta")));
    // A product page showing what can be bought: the file's items that match the filters.
    fx.upsertProduct("acme", "acme-orange", "acme orange shirt", "Apparel > Shirts", 70_000_000L, "out of stock");
    await().atMost(Duration.ofSeconds(30)).until(() -> similarSkus("acme-red", 5, "&availability=in_stock").equals(
        List.of("acme-pink", "acme-withdrawn", "acme-magenta")));
    assertEquals(List.of("acme-pink", "acme-orange", "acme-withdrawn", "acme-magenta"), similarSkus("acme-red", 5));
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", fx.service.grpcPort()).usePlaintext().build();
    try {
      Metadata md = new Metadata();
      md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + ACME_KEY);
      SearchReply inStock = VisualSearchGrpc.newBlockingStub(ch).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
          .withDeadlineAfter(30, TimeUnit.SECONDS).similar(io.visualsearch.proto.search.SimilarRequest.newBuilder()
              .setSku("acme-red").setK(5)
              .setFilters(io.visualsearch.proto.search.Filters.newBuilder().setAvailability("in_stock")).build());
      assertEquals(List.of("acme-pink", "acme-withdrawn", "acme-magenta"),
          inStock.getResultsList().stream().map(ProductResult::getSku).toList(), "gRPC's Similar filters as HTTP's");
      assertEquals("in_stock", inStock.getResults(0).getAvailability());
      assertEquals("Acme", inStock.getResults(0).getBrand());
    } finally {
      ch.shutdownNow();
    }
    fx.upsertProduct("acme", "acme-orange", "acme orange shirt", "Apparel > Shirts", 70_000_000L, "in stock");
    await().atMost(Duration.ofSeconds(30)).until(() -> similarSkus("acme-red", 5, "&availability=in_stock").equals(
        List.of("acme-pink", "acme-orange", "acme-withdrawn", "acme-magenta")));

    fx.sendEmbeddingTombstone("acme", "acme-withdrawn");
    await().atMost(Duration.ofSeconds(30)).until(() -> similarSkus("acme-red", 5).equals(
        List.of("acme-pink", "acme-orange", "acme-magenta")));

    // A file keeping the product's vector: a page asking for more than it lists gets a live search.
    SimilarItemsFile short1 = new SimilarItemsFile("acme", "acme-red", "20250101T000001Z-v1", 1, 0,
        List.of(new SimilarItemsFile.Item("acme-pink", 0.9f)), null,
        SimilarItemsFile.encode(vectors.get("acme").get("acme-red")));
    fx.store.put(SimilarItemsFile.key("acme", "acme-red"), json.writeValueAsBytes(short1), "application/json");
    assertEquals(List.of("acme-pink"), similarSkus("acme-red", 1), "what the file holds is read");
    List<String> more = similarSkus("acme-red", 4);
    assertEquals(4, more.size(), more.toString());
    assertFalse(more.contains("acme-red") || more.contains("acme-withdrawn"), more.toString());
    HttpResponse<String> none = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/products/acme-blue/similar"))
        .header("Authorization", "Bearer " + ACME_KEY).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(404, none.statusCode());
    assertEquals("similar_not_available", json.readTree(none.body()).get("error").asText());
    // A damaged file (an item naming no product) is the data's fault, said so, not a crash of the service.
    fx.store.put(SimilarItemsFile.key("acme", "acme-blue"),
        "{\"index_version\":\"20250101T000001Z-v1\",\"results\":[{\"score\":0.9}]}".getBytes(StandardCharsets.UTF_8),
        "application/json");
    HttpResponse<String> damaged = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/products/acme-blue/similar"))
        .header("Authorization", "Bearer " + ACME_KEY).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(500, damaged.statusCode());
    assertEquals("corrupt_similar_items", json.readTree(damaged.body()).get("error").asText(), damaged.body());
    fx.store.put(SimilarItemsFile.key("acme", "acme-blue"), "null".getBytes(StandardCharsets.UTF_8), "application/json");
    HttpResponse<String> nullFile = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/products/acme-blue/similar"))
        .header("Authorization", "Bearer " + ACME_KEY).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals("corrupt_similar_items", json.readTree(nullFile.body()).get("error").asText(), nullFile.body());
    fx.store.delete(SimilarItemsFile.key("acme", "acme-blue"));
  }

  // ---------------------------------------------------------------- hostile requests

  @Test
  @Order(10)
  void hostileRequestsGetClearJsonErrorsAndTheServiceStaysHealthy() throws Exception {
    byte[] jpeg = TestImages.jpeg(120, 120, Color.WHITE, Color.RED);
    // Each case is sent only when the loop below reaches it, so the count of answers checked says
    // how many hostile requests the service really met.
    List<HostileCase> cases = new ArrayList<>();
    cases.add(new HostileCase("no api key", 401, () -> search(null, jpeg, Map.of())));
    cases.add(new HostileCase("invalid api key", 401, () -> search("not-a-key-0123456789abcdef", jpeg, Map.of())));
    cases.add(new HostileCase("basic auth", 401, () -> send(HttpRequest.newBuilder(URI.create(base + "/api/v1/search"))
        .header("Authorization", "Basic YWNtZTprZXk=").header("Content-Type", "multipart/form-data; boundary=b")
        .POST(HttpRequest.BodyPublishers.ofByteArray(multipart("b", jpeg, Map.of()))))));
    cases.add(new HostileCase("other tenant header", 403, () -> send(searchRequest(ACME_KEY, jpeg, Map.of()).header("X-Tenant", "globex"))));
    cases.add(new HostileCase("other tenant param", 403, () -> send(HttpRequest.newBuilder(URI.create(base + "/api/v1/search?tenant=globex"))
        .header("Authorization", "Bearer " + ACME_KEY).header("Content-Type", "multipart/form-data; boundary=b")
        .POST(HttpRequest.BodyPublishers.ofByteArray(multipart("b", jpeg, Map.of()))))));
    cases.add(new HostileCase("huge upload", 413, () -> search(ACME_KEY, new byte[11 * 1024 * 1024], Map.of())));
    cases.add(new HostileCase("not an image", 415, () -> search(ACME_KEY, "hello, I am text".getBytes(StandardCharsets.UTF_8), Map.of())));
    cases.add(new HostileCase("tiff", 415, () -> search(ACME_KEY, HostileImages.tiff(HostileImages.marker(120, 120)), Map.of())));
    cases.add(new HostileCase("animated gif", 422, () -> search(ACME_KEY,
        HostileImages.gif(HostileImages.marker(120, 120), HostileImages.marker(60, 120)), Map.of())));
    cases.add(new HostileCase("truncated gif", 422, () -> search(ACME_KEY, "GIF89a\u0001\u0000\u0001\u0000".getBytes(StandardCharsets.ISO_8859_1), Map.of())));
    cases.add(new HostileCase("bmp wrapping a png", 415, () -> search(ACME_KEY,
        HostileImages.bmpDeclaring(5, 0x7FFF_FFF0L, 54, HostileImages.png(HostileImages.marker(64, 48))), Map.of())));
    cases.add(new HostileCase("truncated jpeg", 422, () -> search(ACME_KEY, Arrays.copyOf(jpeg, jpeg.length / 2), Map.of())));
    cases.add(new HostileCase("pixel bomb", 413, () -> search(ACME_KEY, TestImages.pngHeader(60_000, 60_000), Map.of())));
    cases.add(new HostileCase("jpeg scan bomb", 422,
        () -> search(ACME_KEY, HostileImages.jpegWithRepeatedScans(HostileImages.marker(120, 120), 500), Map.of())));
    cases.add(new HostileCase("empty image", 400, () -> search(ACME_KEY, new byte[0], Map.of())));
    cases.add(new HostileCase("k=0", 400, () -> search(ACME_KEY, jpeg, Map.of("k", "0"))));
    cases.add(new HostileCase("k=10^9", 400, () -> search(ACME_KEY, jpeg, Map.of("k", "1000000000"))));
    cases.add(new HostileCase("k not a number", 400, () -> search(ACME_KEY, jpeg, Map.of("k", "many"))));
    cases.add(new HostileCase("crop outside", 400, () -> search(ACME_KEY, jpeg, Map.of("crop", "100,100,50,50"))));
    cases.add(new HostileCase("crop malformed", 400, () -> search(ACME_KEY, jpeg, Map.of("crop", "1,2"))));
    cases.add(new HostileCase("negative price", 400, () -> search(ACME_KEY, jpeg, Map.of("min_price", "-5"))));
    cases.add(new HostileCase("min above max", 400, () -> search(ACME_KEY, jpeg, Map.of("min_price", "50", "max_price", "10"))));
    cases.add(new HostileCase("price with a huge exponent", 400, () -> search(ACME_KEY, jpeg, Map.of("min_price", "1e-999999999"))));
    cases.add(new HostileCase("badly encoded query", 400, () -> send(HttpRequest.newBuilder(URI.create(base + "/api/v1/search?tenant=%C3"))
        .header("Authorization", "Bearer " + ACME_KEY).header("Content-Type", "multipart/form-data; boundary=b")
        .POST(HttpRequest.BodyPublishers.ofByteArray(multipart("b", jpeg, Map.of()))))));
    cases.add(new HostileCase("similar, badly encoded k", 400, () -> get("/api/v1/products/acme-red/similar?k=%C3", ACME_KEY)));
    cases.add(new HostileCase("similar without a sku", 404, () -> get("/api/v1/products/similar", ACME_KEY)));
    cases.add(new HostileCase("malformed json", 400, () -> post("/api/v1/search", ACME_KEY, "application/json", "{\"image_base64\":".getBytes())));
    cases.add(new HostileCase("json array", 400, () -> post("/api/v1/search", ACME_KEY, "application/json", "[]".getBytes())));
    cases.add(new HostileCase("json bad base64", 400, () -> post("/api/v1/search", ACME_KEY, "application/json", "{\"image_base64\":\"!!\"}".getBytes())));
    cases.add(new HostileCase("malformed multipart", 400, () -> post("/api/v1/search", ACME_KEY, "multipart/form-data; boundary=zz", "garbage without parts".getBytes())));
    cases.add(new HostileCase("multipart without image", 400, () -> post("/api/v1/search", ACME_KEY, "multipart/form-data; boundary=b", multipart("b", null, Map.of("k", "3")))));
    cases.add(new HostileCase("wrong content type", 415, () -> post("/api/v1/search", ACME_KEY, "text/plain", jpeg)));
    cases.add(new HostileCase("GET on search", 405, () -> get("/api/v1/search", ACME_KEY)));
    cases.add(new HostileCase("similar with k=500", 400, () -> get("/api/v1/products/acme-red/similar?k=500", ACME_KEY)));
    cases.add(new HostileCase("similar of unknown product", 404, () -> get("/api/v1/products/nope/similar", ACME_KEY)));
    cases.add(new HostileCase("unknown path", 404, () -> get("/api/v1/nothing", ACME_KEY)));
    cases.add(new HostileCase("path traversal on page", 400, () -> get("/static/../../etc/passwd", null)));
    StringBuilder failures = new StringBuilder();
    Set<String> checked = new LinkedHashSet<>();
    for (HostileCase c : cases) {
      HttpResponse<String> r = c.send().call();
      checked.add(c.name());
      if (r.statusCode() != c.status()) {
        failures.append(c.name()).append(": expected ").append(c.status()).append(" got ").append(r.statusCode())
            .append(' ').append(r.body()).append('\n');
        continue;
      }
      JsonNode body = json.readTree(r.body());
      if (!body.hasNonNull("error") || !body.hasNonNull("message") || body.get("message").asText().isEmpty()) {
        failures.append(c.name()).append(": not a JSON error: ").append(r.body()).append('\n');
      }
      // What HTTP requires beside these statuses: clients act on the headers, not the JSON.
      if (r.statusCode() == 401 && !r.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer ")) {
        failures.append(c.name()).append(": a 401 without WWW-Authenticate: Bearer\n");
      }
      if (r.statusCode() == 405 && r.headers().firstValue("Allow").isEmpty()) {
        failures.append(c.name()).append(": a 405 without Allow\n");
      }
    }
    assertEquals("", failures.toString());
    assertEquals(cases.size(), checked.size(), "every case is sent and answered, each under its own name");
    assertTrue(checked.size() >= 20, "at least 20 distinct hostile requests were sent, got " + checked.size());
    assertEquals(200, get("/healthz", null).statusCode());
    HttpResponse<String> ready = get("/readyz", null);
    assertEquals(200, ready.statusCode());
    // The public port says only whether it is ready: the checks name every tenant served.
    assertEquals("{\"ready\":true}\n", ready.body());
    // Nor the metrics (pod names, counts of errors by reason, the JVM's insides): the ops port's.
    assertEquals(404, get("/metrics", null).statusCode());
    assertEquals(200, search(ACME_KEY, jpeg, Map.of()).statusCode(), "a valid search still works");
  }

  @Test
  @Order(11)
  void anUploadOverTheCapGetsItsJsonErrorEveryTimeNotAReset() throws Exception {
    // The server answers 413 before reading the body; closing with the body unread would make the
    // kernel reset the connection, and the client would often lose the answer.
    byte[] over = new byte[11 * 1024 * 1024];
    for (int i = 0; i < 40; i++) {
      HttpResponse<String> r = search(ACME_KEY, over, Map.of());
      assertEquals(413, r.statusCode(), "attempt " + i);
      assertEquals("payload_too_large", json.readTree(r.body()).get("error").asText());
    }
  }

  // ---------------------------------------------------------------- freshness and swaps

  @Test
  @Order(20)
  void aNewProductIsSearchableAndARemovedOneDisappearsWithinSeconds() throws Exception {
    BufferedImage stripes = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 64; y++) {
      for (int x = 0; x < 64; x++) {
        stripes.setRGB(x, y, (x / 16) % 2 == 0 ? 0x000000 : 0xFFFF00);
      }
    }
    fx.upsertProduct("acme", "acme-stripes", "acme striped shirt", "Apparel > Shirts", 99_000_000L, "in stock");
    float[] v = fx.embed(stripes);
    fx.sendEmbedding("acme", "acme-stripes", v, 1);
    vectors.get("acme").put("acme-stripes", v);
    byte[] photo = TestImages.encode(stripes, "png");
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() ->
        firstSku(search(ACME_KEY, photo, Map.of("k", "1"))).equals("acme-stripes"));

    fx.removeProduct("acme", "acme-yellow");
    vectors.get("acme").remove("acme-yellow");
    byte[] yellow = TestImages.jpeg(64, 64, Color.WHITE, Color.YELLOW);
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() ->
        !skus(search(ACME_KEY, yellow, Map.of("k", "20"))).contains("acme-yellow"));
  }

  @Test
  @Order(21)
  void queriesRunningThroughThreeIndexSwapsNeverFail() throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger ok = new AtomicInteger();
    List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    ExecutorService pool = Executors.newFixedThreadPool(3);
    List<Future<?>> workers = new ArrayList<>();
    for (int w = 0; w < 3; w++) {
      Color c = COLORS[w];
      String expected = "acme-" + NAMES[w];
      byte[] photo = TestImages.jpeg(100, 100, Color.WHITE, c);
      workers.add(pool.submit(() -> {
        while (!stop.get()) {
          try {
            HttpResponse<String> r = search(ACME_KEY, photo, Map.of("k", "3"));
            if (r.statusCode() != 200 || !firstSku(r).equals(expected)) {
              failures.add(r.statusCode() + " " + r.body());
            } else {
              ok.incrementAndGet();
            }
          } catch (Exception e) {
            failures.add(e.toString());
          }
        }
        return null;
      }));
    }
    List<String> published = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      String version = nextVersion();
      // Shard counts change between versions too: 1, 2, 3.
      fx.publication.publish("acme", version, 1, vectors.get("acme"), i + 1, fx.embeddingsEnd());
      published.add(version);
      await().atMost(Duration.ofSeconds(30)).until(() -> fx.service.indexes().servedVersion("acme").orElse("")
          .equals(version));
      Thread.sleep(300);
    }
    stop.set(true);
    for (Future<?> f : workers) {
      f.get(60, TimeUnit.SECONDS);
    }
    pool.shutdown();
    System.out.printf("swap_test_queries=%d swap_test_failures=%d%n", ok.get(), failures.size());
    assertEquals(List.of(), failures);
    assertTrue(ok.get() > 10, "too few queries ran during the swaps: " + ok.get());
    HttpResponse<String> after = search(ACME_KEY, TestImages.jpeg(64, 64, Color.WHITE, Color.RED), Map.of("k", "1"));
    assertEquals(published.get(2), json.readTree(after.body()).get("index_version").asText());
  }

  @Test
  @Order(22)
  void aCorruptVersionIsRefusedAndThePreviousOneKeepsServing() throws Exception {
    String served = fx.service.indexes().servedVersion("acme").orElseThrow();
    String version = nextVersion();
    // One flipped byte in the uploaded shard: its sha256 no longer matches the manifest.
    fx.publication.publish("acme", version, 1, vectors.get("acme"), 1, fx.embeddingsEnd(), bytes -> {
      bytes[bytes.length / 2] ^= 0x55;
      return bytes;
    });
    fx.service.swapper().refresh("acme");
    assertEquals(served, fx.service.indexes().servedVersion("acme").orElseThrow());
    assertEquals(200, search(ACME_KEY, TestImages.jpeg(64, 64, Color.WHITE, Color.RED), Map.of()).statusCode());
  }

  @Test
  @Order(24)
  void duringAModelRolloutANewProductIsSearchableBeforeTheNewModelsIndexIsServed() throws Exception {
    // The generator embeds with version 2 now; the served index is of version 1 until version 2's
    // index is published. search-api embeds the product's normalised picture with version 1 itself.
    BufferedImage checks = new BufferedImage(64, 64, BufferedImage.TYPE_3BYTE_BGR);
    for (int y = 0; y < 64; y++) {
      for (int x = 0; x < 64; x++) {
        checks.setRGB(x, y, ((x / 8) + (y / 8)) % 2 == 0 ? 0xFF00FF : 0x00FFFF);
      }
    }
    String sha = "7e".repeat(32);
    fx.store.put("images/" + sha, TestImages.encode(checks, "png"), "image/png");
    fx.upsertProduct("acme", "acme-rollout", "acme chequered scarf", "Apparel > Scarves", 25_000_000L, "in stock");
    float[] ofVersion2 = new float[vectors.get("acme").values().iterator().next().length];
    ofVersion2[0] = 1;
    fx.sendEmbedding("acme", "acme-rollout", ofVersion2, 2, sha);
    byte[] photo = TestImages.encode(checks, "png");
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() ->
        firstSku(search(ACME_KEY, photo, Map.of("k", "1"))).equals("acme-rollout"));
  }

  // ---------------------------------------------------------------- helpers

  String firstSku(HttpResponse<String> r) throws Exception {
    JsonNode results = json.readTree(r.body()).get("results");
    return results == null || results.isEmpty() ? "" : results.get(0).get("sku").asText();
  }

  List<String> skus(HttpResponse<String> r) throws Exception {
    List<String> out = new ArrayList<>();
    JsonNode results = json.readTree(r.body()).get("results");
    if (r.statusCode() != 200 || results == null) {
      throw new AssertionError("search failed: " + r.statusCode() + " " + r.body());
    }
    results.forEach(n -> out.add(n.get("sku").asText()));
    return out;
  }

  static byte[] multipart(String boundary, byte[] image, Map<String, String> fields) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    if (image != null) {
      out.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"q.jpg\"\r\n"
          + "Content-Type: image/jpeg\r\n\r\n").getBytes(StandardCharsets.UTF_8));
      out.writeBytes(image);
      out.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
    }
    fields.forEach((k, v) -> out.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + k
        + "\"\r\n\r\n" + v + "\r\n").getBytes(StandardCharsets.UTF_8)));
    out.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
    return out.toByteArray();
  }

  HttpRequest.Builder searchRequest(String key, byte[] image, Map<String, String> fields) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/api/v1/search"))
        .header("Content-Type", "multipart/form-data; boundary=vsboundary")
        .POST(HttpRequest.BodyPublishers.ofByteArray(multipart("vsboundary", image, fields)));
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return b;
  }

  /** A hostile request, sent only when called, and the status it must get. */
  record HostileCase(String name, int status, Callable<HttpResponse<String>> send) {}

  HttpResponse<String> search(String key, byte[] image, Map<String, String> fields) throws Exception {
    return send(searchRequest(key, image, fields));
  }

  HttpResponse<String> post(String path, String key, String type, byte[] body) throws Exception {
    return send(HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", "Bearer " + key)
        .header("Content-Type", type).POST(HttpRequest.BodyPublishers.ofByteArray(body)));
  }

  HttpResponse<String> get(String path, String key) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).GET();
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return send(b);
  }

  HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
    return http.send(b.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
