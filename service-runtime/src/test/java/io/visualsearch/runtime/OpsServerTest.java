package io.visualsearch.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class OpsServerTest {

  final HttpClient http = HttpClient.newHttpClient();

  HttpResponse<String> get(OpsServer ops, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ops.port() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void servesHealthReadinessAndMetrics() throws Exception {
    PrometheusRegistry registry = new PrometheusRegistry();
    Counter handled = Counter.builder().name("records_handled_total").help("records").register(registry);
    handled.inc(3);
    AtomicReference<CheckResult> consumerState = new AtomicReference<>(CheckResult.OK);
    Component consumer = new Component() {
      @Override public String name() { return "consumer"; }
      @Override public CheckResult check() { return consumerState.get(); }
      @Override public void close() {}
    };
    OpsServer ops = new OpsServer("127.0.0.1", 0, registry, () -> List.of(consumer));
    ops.start();
    try {
      assertEquals(200, get(ops, "/healthz").statusCode());
      HttpResponse<String> ready = get(ops, "/readyz");
      assertEquals(200, ready.statusCode());
      assertEquals("{\"ready\":true,\"checks\":{\"consumer\":{\"ok\":true,\"detail\":\"ok\"}}}\n", ready.body());

      consumerState.set(CheckResult.failed("poll thread is dead"));
      HttpResponse<String> notReady = get(ops, "/readyz");
      assertEquals(503, notReady.statusCode());
      assertTrue(notReady.body().contains("\"detail\":\"poll thread is dead\""), notReady.body());

      HttpResponse<String> metrics = get(ops, "/metrics");
      assertEquals(200, metrics.statusCode());
      assertTrue(metrics.body().contains("records_handled_total 3.0"), metrics.body());
    } finally {
      ops.close();
    }
  }

  @Test
  void healthzFailsOnlyWhileAComponentIsWedgedNamingItAndWhy() throws Exception {
    AtomicReference<String> stuck = new AtomicReference<>();
    Component consumer = new Component() {
      @Override public String name() { return "consumer"; }
      @Override public CheckResult check() { return stuck.get() == null ? CheckResult.OK : CheckResult.failed(stuck.get()); }
      @Override public String wedged() { return stuck.get(); }
      @Override public void close() {}
    };
    // Not ready is not wedged: a model server that is down makes a worker unready, never restarted.
    Component waiting = new Component() {
      @Override public String name() { return "model-client"; }
      @Override public CheckResult check() { return CheckResult.failed("UNAVAILABLE"); }
      @Override public void close() {}
    };
    // Wedged behind reportedOnly still restarts the process.
    Component shared = Component.reportedOnly(new Component() {
      @Override public String name() { return "index-swapper"; }
      @Override public CheckResult check() { return CheckResult.OK; }
      @Override public String wedged() { return stuck.get() == null ? null : "the index poll died"; }
      @Override public void close() {}
    });
    OpsServer ops = new OpsServer("127.0.0.1", 0, new PrometheusRegistry(), () -> List.of(waiting, consumer, shared));
    ops.start();
    try {
      assertEquals(503, get(ops, "/readyz").statusCode());
      assertEquals(200, get(ops, "/healthz").statusCode());

      stuck.set("one batch handled for 3600 s");
      HttpResponse<String> wedged = get(ops, "/healthz");
      assertEquals(503, wedged.statusCode());
      assertEquals("wedged\nconsumer: one batch handled for 3600 s\nindex-swapper: the index poll died\n", wedged.body());

      stuck.set(null);
      assertEquals(200, get(ops, "/healthz").statusCode());
    } finally {
      ops.close();
    }
  }

  @Test
  void aReportedOnlyCheckIsShownButDoesNotMakeTheServiceUnready() throws Exception {
    Component shared = Component.reportedOnly(new Component() {
      @Override public String name() { return "model-client"; }
      @Override public CheckResult check() { return CheckResult.failed("last call failed: UNAVAILABLE"); }
      @Override public void close() {}
    });
    AtomicReference<CheckResult> consumerState = new AtomicReference<>(CheckResult.OK);
    Component consumer = new Component() {
      @Override public String name() { return "consumer"; }
      @Override public CheckResult check() { return consumerState.get(); }
      @Override public void close() {}
    };
    OpsServer ops = new OpsServer("127.0.0.1", 0, new PrometheusRegistry(), () -> List.of(shared, consumer));
    ops.start();
    try {
      HttpResponse<String> ready = get(ops, "/readyz");
      assertEquals(200, ready.statusCode(), ready.body());
      assertEquals("{\"ready\":true,\"checks\":{\"model-client\":{\"ok\":false,\"detail\":"
          + "\"last call failed: UNAVAILABLE\",\"gates_readiness\":false},\"consumer\":{\"ok\":true,\"detail\":\"ok\"}}}\n",
          ready.body());

      // The components that gate readiness still do.
      consumerState.set(CheckResult.failed("poll thread is dead"));
      assertEquals(503, get(ops, "/readyz").statusCode());
    } finally {
      ops.close();
    }
  }
}
