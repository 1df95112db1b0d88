package io.visualsearch.catalogdownloader;

import com.sun.net.httpserver.HttpExchange;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Syncs every source on a schedule and on demand ({@code POST /sync?tenant=T} on the ops port).
 * Syncs run one at a time on one thread, so two syncs of a tenant never interleave their diffs.
 */
final class SyncScheduler implements Component {

  private static final Logger log = LoggerFactory.getLogger(SyncScheduler.class);

  private final CatalogSync sync;
  private final List<FeedLocation> sources;
  private final Duration interval;
  private final Map<String, SyncReport> last = new ConcurrentHashMap<>();
  private ScheduledExecutorService worker;
  private volatile Throwable lastFailure;

  SyncScheduler(CatalogSync sync, List<FeedLocation> sources, Duration interval) {
    this.sync = sync;
    this.sources = List.copyOf(sources);
    this.interval = interval;
  }

  @Override
  public String name() {
    return "sync-scheduler";
  }

  @Override
  public void start() {
    worker = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "catalog-sync");
      t.setDaemon(false);
      return t;
    });
    if (!interval.isZero()) {
      worker.scheduleWithFixedDelay(this::syncAll, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  private void syncAll() {
    for (FeedLocation source : sources) {
      syncOne(source);
    }
  }

  private SyncReport syncOne(FeedLocation source) {
    try {
      SyncReport r = sync.run(source, n -> { });
      last.put(source.tenant(), r);
      lastFailure = null;
      return r;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return SyncReport.failed(source.tenant(), source.uri().toString(), SyncReport.Status.FAILED, "interrupted");
    } catch (Exception e) {
      lastFailure = e;
      log.warn("catalog sync of {} failed; next attempt at the next interval: {}", source.tenant(), e.toString());
      SyncReport r = SyncReport.failed(source.tenant(), source.uri().toString(), SyncReport.Status.FAILED, e.toString());
      last.put(source.tenant(), r);
      return r;
    }
  }

  /** Queues a sync of one tenant's sources and waits for it. */
  List<SyncReport> syncNow(String tenant) throws Exception {
    List<FeedLocation> mine = sources.stream().filter(s -> s.tenant().equals(tenant)).toList();
    if (mine.isEmpty()) {
      throw new IllegalArgumentException("no feed source configured for tenant '" + tenant + "'");
    }
    Future<List<SyncReport>> f = worker.submit(() -> mine.stream().map(this::syncOne).toList());
    return f.get();
  }

  /** The on-demand endpoint for catalog sync jobs. */
  void handle(HttpExchange ex) throws IOException {
    try (ex) {
      if (!ex.getRequestMethod().equals("POST")) {
        reply(ex, 405, "{\"error\":\"method_not_allowed\",\"message\":\"use POST /sync?tenant=<tenant>\"}");
        return;
      }
      String query = ex.getRequestURI().getRawQuery();
      String tenant = null;
      if (query != null) {
        for (String kv : query.split("&")) {
          if (kv.startsWith("tenant=")) {
            tenant = URLDecoder.decode(kv.substring(7), StandardCharsets.UTF_8);
          }
        }
      }
      if (tenant == null) {
        reply(ex, 400, "{\"error\":\"missing_tenant\",\"message\":\"use POST /sync?tenant=<tenant>\"}");
        return;
      }
      try {
        List<SyncReport> reports = syncNow(tenant);
        boolean ok = reports.stream().allMatch(r -> r.status() == SyncReport.Status.APPLIED
            || r.status() == SyncReport.Status.NOT_MODIFIED);
        reply(ex, ok ? 200 : 422, new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(reports));
      } catch (IllegalArgumentException e) {
        reply(ex, 404, "{\"error\":\"unknown_tenant\",\"message\":\"" + e.getMessage().replace("\"", "'") + "\"}");
      } catch (Exception e) {
        reply(ex, 500, "{\"error\":\"sync_failed\",\"message\":\"" + String.valueOf(e.getMessage()).replace("\"", "'") + "\"}");
      }
    }
  }

  private static void reply(HttpExchange ex, int status, String body) throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, b.length);
    try (OutputStream os = ex.getResponseBody()) {
      os.write(b);
    }
  }

  Map<String, SyncReport> lastReports() {
    return Map.copyOf(last);
  }

  @Override
  public CheckResult check() {
    if (worker == null || worker.isShutdown()) {
      return CheckResult.failed("not running");
    }
    Throwable f = lastFailure;
    // A failing feed source is the retailer's problem to fix; the service itself stays ready.
    return f == null ? CheckResult.OK : new CheckResult(true, "last sync failed: " + f.getMessage());
  }

  @Override
  public void close() {
    if (worker != null) {
      worker.shutdown();
      try {
        if (!worker.awaitTermination(60, TimeUnit.SECONDS)) {
          worker.shutdownNow();
        }
      } catch (InterruptedException e) {
        worker.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
  }
}
