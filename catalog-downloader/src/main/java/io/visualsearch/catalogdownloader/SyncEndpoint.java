package io.visualsearch.catalogdownloader;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import io.visualsearch.runtime.ExchangeReply;
import java.io.IOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /sync?tenant=T} syncs a tenant now and answers its report (200 applied or unchanged,
 * 422 refused: the feed's fault, 503 failed on our side with a Retry-After, 409 another sync of the
 * tenant running elsewhere), or 202 Accepted once
 * {@code CATALOG_SYNC_REPLY_WAIT} has passed with the sync still queued or running; {@code GET
 * /sync?tenant=T} answers where it stands and its last report.
 *
 * <p>No ops thread waits for a sync: the ops server's two threads also answer /healthz, and two
 * requests waiting behind a long sync held both, so liveness probes timed out and the pod was
 * restarted mid-sync. The handler returns at once and the answer is written later, from here.
 */
final class SyncEndpoint implements HttpHandler, Component {

  private static final Logger log = LoggerFactory.getLogger(SyncEndpoint.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  /** When a failed sync is worth posting again: long enough for a store or broker to fail over. */
  static final String FAILED_RETRY_AFTER_SECONDS = "30";
  private static final String USAGE = "use POST /sync?tenant=<tenant> to sync now, GET /sync?tenant=<tenant> for its state";

  private final SyncScheduler scheduler;
  private final Duration replyWait;
  private final ScheduledThreadPoolExecutor replies;
  /** POSTs not answered yet: a stop answers them. */
  private final Set<Reply> unanswered = ConcurrentHashMap.newKeySet();

  SyncEndpoint(SyncScheduler scheduler, Duration replyWait) {
    this.scheduler = scheduler;
    this.replyWait = replyWait;
    // Created here, not in start(): the ops server is up and routing before this component starts.
    this.replies = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "sync-replies");
      t.setDaemon(true);
      return t;
    });
    replies.setRemoveOnCancelPolicy(true);
    // At a stop the queued reports still go out; the pending 202s are answered by close() instead.
    replies.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
  }

  @Override
  public String name() {
    return "sync-endpoint";
  }

  @Override
  public void handle(HttpExchange ex) throws IOException {
    Reply reply = new Reply(ex);
    String method = ex.getRequestMethod();
    if (!method.equals("POST") && !method.equals("GET")) {
      reply.send(405, error("method_not_allowed", USAGE));
      return;
    }
    String tenant = tenant(ex); // a broken escape never gets here: the server answers 400 itself
    if (tenant == null) {
      reply.send(400, error("missing_tenant", USAGE));
      return;
    }
    if (scheduler.source(tenant).isEmpty()) {
      reply.send(404, error("unknown_tenant", "no feed source configured for tenant '" + tenant + "'"));
      return;
    }
    if (method.equals("GET")) {
      reply.send(200, JSON.writeValueAsString(scheduler.status(tenant)));
      return;
    }
    try {
      unanswered.add(reply);
      CompletableFuture<SyncReport> sync = scheduler.request(tenant);
      reply.sync = sync;
      ScheduledFuture<?> accepted = replies.schedule(() -> reply.send(202, accepted(tenant), location(tenant)),
          replyWait.toMillis(), TimeUnit.MILLISECONDS);
      sync.whenComplete((report, failure) -> {
        accepted.cancel(false);
        // Written by the reply thread, never by the sync worker: a slow client must not hold up syncs.
        later(() -> reply.send(report, failure));
      });
    } catch (RejectedExecutionException e) {
      if (reply.sync == null) {
        reply.send(503, error("not_running", "the catalog-downloader is starting or stopping: " + e.getMessage()));
      } else {
        // The reply thread is gone (a stop): a sync that ended in its drain is answered here, any
        // other by the stop's close, unless that has passed: a request joining a sync the stop
        // dropped was left unanswered until the connection went.
        if (!reply.sendIfEnded()) {
          reply.send(503, error("stopping", "the catalog-downloader is stopping: post again"), null, "5");
        }
      }
    }
  }

  private void later(Runnable task) {
    try {
      replies.execute(task);
    } catch (RejectedExecutionException e) {
      // Stopping: the ops server closes the connection.
    }
  }

  private static String tenant(HttpExchange ex) {
    String query = ex.getRequestURI().getRawQuery();
    if (query != null) {
      for (String kv : query.split("&")) {
        if (kv.startsWith("tenant=")) {
          return URLDecoder.decode(kv.substring(7), StandardCharsets.UTF_8);
        }
      }
    }
    return null;
  }

  private static String location(String tenant) {
    return "/sync?tenant=" + URLEncoder.encode(tenant, StandardCharsets.UTF_8);
  }

  private static String accepted(String tenant) {
    return JSON.createObjectNode().put("tenant", tenant).put("status", "ACCEPTED")
        .put("message", "the sync is queued or running and goes on; GET " + location(tenant)
            + " shows it and, once it ends, its report")
        .toString();
  }

  private static String error(String code, String message) {
    ObjectNode body = JSON.createObjectNode().put("error", code).put("message", message);
    return body.toString();
  }

  @Override
  public CheckResult check() {
    return replies.isShutdown() ? CheckResult.failed("stopped") : CheckResult.OK;
  }

  /**
   * Closed after the scheduler (added before it), so the syncs in hand have ended and their
   * reports are queued here: those go out, and a request still without an answer (its sync cut
   * short by the stop, or never started) is told the service is stopping. Closing first, as it
   * did, dropped the reports and left the callers' requests unanswered until the connection died.
   */
  @Override
  public void close() {
    replies.shutdown();
    try {
      replies.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (Reply r : unanswered) {
      // A sync that ended in the drain, its report not yet handed to the reply thread (the
      // request's own thread, slow on a loaded machine, had not yet asked for it): the report.
      if (!r.sendIfEnded()) {
        r.send(503, error("stopping", "the catalog-downloader stopped before this sync ended; its changes so far"
            + " are kept as pending and the next sync reconciles them: post again"), null, "5");
      }
    }
    replies.shutdownNow();
  }

  /** One exchange's answer, written once by whichever comes first: the report, the 202 or the stop. */
  private final class Reply {
    private final HttpExchange ex;
    private final AtomicBoolean sent = new AtomicBoolean();
    /** The sync it waits for, once requested. */
    private volatile CompletableFuture<SyncReport> sync;

    Reply(HttpExchange ex) {
      this.ex = ex;
    }

    /** Answers with the sync's report if it has ended (the same answer its completion gives); false if not. */
    boolean sendIfEnded() {
      CompletableFuture<SyncReport> s = sync;
      if (s == null || !s.isDone()) {
        return false;
      }
      s.whenComplete(this::send); // ended: runs here, now
      return true;
    }

    void send(SyncReport report, Throwable failure) {
      if (failure instanceof java.util.concurrent.CancellationException stopped) {
        // Not a failed sync: the service stopped first; what was sent is pending and reconciled.
        send(503, error("stopping", stopped.getMessage() + "; its changes so far are kept as pending and the next"
            + " sync reconciles them: post again"), null, "5");
        return;
      }
      if (failure != null) {
        send(500, error("sync_failed", String.valueOf(failure.getMessage())));
        return;
      }
      int status = switch (report.status()) {
        case APPLIED, NOT_MODIFIED -> 200;
        case BUSY -> 409;
        case REFUSED -> 422;
        // Our side failed (the store, the broker, the feed host's connection), not the feed: a 4xx
        // told a retailer's sync job to fix its feed and stop retrying.
        case FAILED -> 503;
      };
      try {
        // An array, as when a tenant could have several sources; callers parse it so.
        send(status, JSON.writeValueAsString(List.of(report)), null,
            status == 503 ? FAILED_RETRY_AFTER_SECONDS : null);
      } catch (IOException e) {
        send(500, error("sync_failed", "report not serialisable: " + e.getMessage()));
      }
    }

    void send(int status, String body) {
      send(status, body, null);
    }

    void send(int status, String body, String location) {
      send(status, body, location, null);
    }

    void send(int status, String body, String location, String retryAfterSeconds) {
      if (!sent.compareAndSet(false, true)) {
        return;
      }
      unanswered.remove(this);
      byte[] b = body.getBytes(StandardCharsets.UTF_8);
      try (ex) {
        if (location != null) {
          ex.getResponseHeaders().set("Location", location);
        }
        if (retryAfterSeconds != null) {
          ex.getResponseHeaders().set("Retry-After", retryAfterSeconds);
        }
        ExchangeReply.send(ex, status, "application/json", b);
      } catch (IOException e) {
        log.debug("sync answer {} not delivered: {}", status, e.toString());
      }
    }
  }
}
