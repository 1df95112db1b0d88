package io.visualsearch.searchapi;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.HeadlessChromium;
import io.visualsearch.stack.StackExtension;
import io.visualsearch.topics.Topic;
import io.visualsearch.topics.TopicInitializer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;

/**
 * The indexers' health page served by search-api, in headless Chromium, fed by real heartbeats
 * on the real broker: two pipeline services and search-api itself. Stopping one turns its row
 * stale through the page's own refresh, and the JSON says what the page shows.
 */
@ExtendWith(StackExtension.class)
class ITHealthPage {

  static final String KEY = "health-key-0123456789abcdef";
  static final String WORK = "it.health.work";
  static final String ALPHA = "alpha-indexer";
  static final String BETA = "beta-indexer";
  /** Generous: the page must get there by its own refresh, however slow this machine is. */
  static final Duration DEADLINE = Duration.ofSeconds(60);

  final HttpClient http = HttpClient.newHttpClient();

  @Test
  void everyRunningServiceIsListedAndAStoppedOneTurnsStale(EmbeddedStack stack) throws Exception {
    createWorkTopic(stack);
    try (StackFixture fx = new StackFixture(stack, Map.of("SEARCH_API_KEYS", "health:" + KEY,
            "KAFKA_GROUP_ID", "it-health-page", "SERVICE_INSTANCE_ID", "health-it-api",
            "HEALTH_STALE_AFTER_INTERVALS", "2", "HEALTH_ZIPKIN_UI", stack.zipkin().baseUrl()));
        PipelineWorker alpha = new PipelineWorker(stack, ALPHA, "a-1", WORK, "1s");
        PipelineWorker beta = new PipelineWorker(stack, BETA, "b-1", WORK, "1s")) {
      String base = "http://127.0.0.1:" + fx.startService().httpPort();
      sendWork(stack, 20);
      // A refused lookup is still a request answered: search-api's own activity on the page.
      get(base + "/api/v1/products/nothing-here/similar", KEY);

      // Rows come from a topic any pipeline producer can write: no script, no framing, whatever
      // escaping misses; the browser below shows the page still works under that policy.
      java.net.http.HttpResponse<String> page = java.net.http.HttpClient.newHttpClient().send(
          java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/ops/health")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      String policy = page.headers().firstValue("Content-Security-Policy").orElse("");
      assertTrue(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"), policy);
      try (HeadlessChromium chromium = HeadlessChromium.start()) {
        WebDriver browser = chromium.browser();
        browser.get(base + "/ops/health");
        assertEquals("Indexers' health", browser.getTitle());
        await().atMost(DEADLINE).pollInterval(Duration.ofMillis(500)).ignoreExceptions().untilAsserted(() -> {
          Map<String, PageRow> rows = PageRow.read(browser);
          for (String id : List.of(ALPHA + "/a-1", BETA + "/b-1", "search-api/health-it-api")) {
            PageRow row = rows.get(id);
            assertTrue(row != null, id + " is listed: " + rows.keySet());
            assertTrue(row.bars() > 0, id + " has a non-empty sparkline");
            assertFalse(row.state().equals("stale"), id + " is not stale");
          }
          assertEquals(20, rows.get(ALPHA + "/a-1").activity(), "every work record handled by alpha");
          assertEquals(20, rows.get(BETA + "/b-1").activity(), "every work record handled by beta");
          assertEquals("healthy", rows.get(ALPHA + "/a-1").state());
        });
        PageRow alphaRow = PageRow.read(browser).get(ALPHA + "/a-1");
        assertEquals(stack.zipkin().baseUrl() + "/zipkin/?serviceName=" + ALPHA + "&lookback=3600000",
            alphaRow.traces());

        beta.close();
        // No reload from the test: the page's own refresh must bring the change.
        await().atMost(DEADLINE).pollInterval(Duration.ofMillis(500)).ignoreExceptions().untilAsserted(() -> {
          Map<String, PageRow> rows = PageRow.read(browser);
          assertEquals("stopped", rows.get(BETA + "/b-1").state(), "closed on request, so said as it stopped");
          assertEquals("healthy", rows.get(ALPHA + "/a-1").state());
        });

        // What the browser shows now and what the JSON says must agree, row for row. A refresh
        // between the two reads may make one attempt disagree; a real mismatch never agrees.
        await().atMost(DEADLINE).pollInterval(Duration.ofSeconds(1)).ignoreExceptions().untilAsserted(() ->
            assertEquals(PageRow.fromJson(get(base + "/ops/health.json", null)), PageRow.read(browser)));
      }
    }
  }

  /** One row as the page shows it; the number of bars is what the sparkline draws. */
  record PageRow(String state, long activity, long errors, long deadLetters, long lag, int bars, String traces) {

    static Map<String, PageRow> read(WebDriver browser) {
      Map<String, PageRow> rows = new TreeMap<>();
      for (WebElement tr : browser.findElements(By.cssSelector("#health tbody tr"))) {
        List<WebElement> td = tr.findElements(By.tagName("td"));
        rows.put(tr.getAttribute("data-service") + "/" + tr.getAttribute("data-instance"), new PageRow(
            tr.getAttribute("data-state"), Long.parseLong(td.get(3).getText()), Long.parseLong(td.get(4).getText()),
            Long.parseLong(td.get(5).getText()), lag(td.get(7).getText()),
            td.get(2).findElements(By.cssSelector("svg rect")).size(),
            td.get(9).findElement(By.tagName("a")).getAttribute("href")));
      }
      return rows;
    }

    /** The page writes n/a where the JSON has -1: an instance without a consumer loop. */
    static long lag(String cell) {
      return cell.equals("n/a") ? -1 : Long.parseLong(cell);
    }

    static Map<String, PageRow> fromJson(String body) throws Exception {
      Map<String, PageRow> rows = new TreeMap<>();
      for (JsonNode o : new ObjectMapper().readTree(body).get("instances")) {
        int bars = 0;
        for (JsonNode minute : o.get("activity_per_minute")) {
          bars += minute.asLong() > 0 ? 1 : 0;
        }
        rows.put(o.get("service").asText() + "/" + o.get("instance").asText(), new PageRow(o.get("state").asText(),
            o.get("activity_total").asLong(), o.get("error_total").asLong(), o.get("dlq_total").asLong(),
            o.get("consumer_lag").asLong(), bars, o.get("traces").asText()));
      }
      return rows;
    }
  }

  static void createWorkTopic(EmbeddedStack stack) throws Exception {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", stack.kafkaBootstrapServers()))) {
      new TopicInitializer(admin, 2, (short) 1).ensure(List.of(new Topic(WORK, false, Map.of())));
    }
  }

  static void sendWork(EmbeddedStack stack, int records) throws Exception {
    Properties p = new Properties();
    p.put("bootstrap.servers", stack.kafkaBootstrapServers());
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(),
        new ByteArraySerializer())) {
      for (int i = 0; i < records; i++) {
        producer.send(new ProducerRecord<>(WORK, ("k" + i).getBytes(StandardCharsets.UTF_8),
            ("work " + i).getBytes(StandardCharsets.UTF_8))).get();
      }
    }
  }

  String get(String url, String apiKey) throws Exception {
    HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(url));
    if (apiKey != null) {
      req.header("Authorization", "Bearer " + apiKey);
    }
    return http.send(req.build(), HttpResponse.BodyHandlers.ofString()).body();
  }
}
