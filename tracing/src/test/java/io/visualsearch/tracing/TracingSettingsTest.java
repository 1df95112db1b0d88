package io.visualsearch.tracing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.SocketAddress;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class TracingSettingsTest {

  @Test
  void anEndpointThatIsNoUrlIsAConfigurationErrorNamingTheVariable() {
    for (String bad : new String[] {"zipkin:9411", "127.0.0.1:9411/api/v2/spans", "ftp://zipkin/api"}) {
      ConfigException e = assertThrows(ConfigException.class,
          () -> TracingSettings.definition().parse(Map.of("ZIPKIN_ENDPOINT", bad)), bad);
      assertTrue(e.getMessage().contains("ZIPKIN_ENDPOINT"), e.getMessage());
    }
  }

  @Test
  void noneWithStraySpaceAndHttpUrlsAreAccepted() {
    for (String good : new String[] {"none ", "NONE", "http://zipkin:9411/api/v2/spans", "https://z.example/api/v2/spans"}) {
      assertEquals(good, TracingSettings.definition().parse(Map.of("ZIPKIN_ENDPOINT", good))
          .get(TracingSettings.ZIPKIN_ENDPOINT));
    }
  }

  @Test
  void noneExportsNothingWhereAnEndpointGetsTheSpans() throws Exception {
    HttpServer zipkin = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    AtomicInteger posts = new AtomicInteger();
    zipkin.createContext("/api/v2/spans", exchange -> {
      exchange.getRequestBody().readAllBytes();
      posts.incrementAndGet();
      exchange.sendResponseHeaders(202, -1);
      exchange.close();
    });
    zipkin.start();
    // Every HTTP connection in the JVM asks the default proxy selector first: an export to any
    // address, the default endpoint's included, shows here.
    List<URI> httpConnections = new CopyOnWriteArrayList<>();
    ProxySelector system = ProxySelector.getDefault();
    ProxySelector.setDefault(new ProxySelector() {
      @Override
      public List<Proxy> select(URI uri) {
        if (uri.getScheme().startsWith("http")) {
          httpConnections.add(uri);
        }
        return List.of(Proxy.NO_PROXY);
      }

      @Override
      public void connectFailed(URI uri, SocketAddress address, IOException e) {}
    });
    try {
      String endpoint = "http://127.0.0.1:" + zipkin.getAddress().getPort() + "/api/v2/spans";
      exportOneSpan(endpoint);
      assertEquals(1, posts.get(), "the span reached the endpoint");
      assertTrue(httpConnections.contains(URI.create(endpoint)), httpConnections.toString());

      httpConnections.clear();
      exportOneSpan("none ");
      assertEquals(List.of(), httpConnections, "'none ' starts and exports nowhere");
      assertEquals(1, posts.get());
    } finally {
      ProxySelector.setDefault(system);
      zipkin.stop(0);
    }
  }

  private static void exportOneSpan(String endpoint) {
    Config config = TracingSettings.definition().parse(Map.of("ZIPKIN_ENDPOINT", endpoint));
    try (Tracing t = Tracing.create("svc", "i", config)) {
      t.tracer().spanBuilder("checkout").startSpan().end();
      t.flush();
    }
  }
}
