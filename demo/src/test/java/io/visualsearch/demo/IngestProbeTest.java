package io.visualsearch.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.visualsearch.samplecatalog.FashionMnist;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IngestProbeTest {

  @TempDir
  Path dir;

  HttpServer searchApi;
  SampleShop shop;

  /** A search-api that refuses the key: every search answers 401. */
  @BeforeEach
  void refusingSearchApi() throws Exception {
    searchApi = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    searchApi.createContext("/api/v1/search", exchange -> {
      exchange.getRequestBody().readAllBytes();
      byte[] body = "{\"error\":\"unauthorized\",\"message\":\"unknown API key\"}".getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(401, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    searchApi.start();
    shop = new SampleShop("probe", dir.resolve("feed.tsv"), FashionMnist.debian(), "http://127.0.0.1:1/images", 3);
  }

  @AfterEach
  void stop() {
    searchApi.stop(0);
  }

  private IngestProbe probe() {
    URI base = URI.create("http://127.0.0.1:" + searchApi.getAddress().getPort() + "/");
    return new IngestProbe(new SearchClient(base, "wrong-key"), shop, shop.size());
  }

  @Test
  void aFailedSearchIsSaidInTheProgressLineAndKeptForTheTimeoutMessage() throws Exception {
    IngestProbe probe = probe();
    List<String> progress = new ArrayList<>();
    AtomicInteger checks = new AtomicInteger();
    // Aborts at the second check: one pass has run and reported.
    IngestProbe.Outcome outcome = probe.await(Duration.ofSeconds(60), () -> checks.incrementAndGet() > 1,
        progress::add);
    assertEquals(IngestProbe.Outcome.ABORTED, outcome);
    assertEquals(1, progress.size(), progress.toString());
    assertTrue(progress.get(0).contains("last search failed: HTTP 401 unauthorized: unknown API key"),
        progress.get(0));
    assertEquals("HTTP 401 unauthorized: unknown API key", probe.lastProblem());
  }

  @Test
  void aStoppedServiceEndsTheWaitBeforeAnySearch() throws Exception {
    List<String> progress = new ArrayList<>();
    IngestProbe.Outcome outcome = probe().await(Duration.ofSeconds(60), () -> true, progress::add);
    assertEquals(IngestProbe.Outcome.ABORTED, outcome);
    assertEquals(List.of(), progress, "no pass ran");
  }
}
