package io.visualsearch.searchapi.http;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.http.HttpParser;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.AbstractConnector;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.NanoTime;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a connection whose request line and headers have not all arrived within {@code deadline}
 * of their first byte. Jetty's idle timeout restarts with every byte, so a client sending one header
 * byte every 25 s held a connection for days within the 16 KiB header allowance, and tens of
 * thousands of them took every tenant's searches down; Jetty 12 has no header deadline of its own
 * (its data rates apply to bodies, see UploadReader). A check every tenth of the deadline reads each
 * connection's HTTP/1 parser: still in the request line or headers, past START, and begun longer
 * ago than the deadline means closed. The wait between kept-alive requests (parser at START) stays
 * the idle timeout's business, and a body's pace UploadReader's.
 *
 * <p>{@code HttpConnection} is in Jetty's {@code internal} package: its parser is the one public
 * place that says where a request stands. {@code ConnectionLimitsTest} fails if an upgrade moves it.
 */
final class HeaderDeadline extends AbstractLifeCycle implements Runnable {

  private static final Logger log = LoggerFactory.getLogger(HeaderDeadline.class);
  /** Checks at least this far apart, whatever the deadline: a check walks every connection. */
  private static final long MIN_PERIOD_MS = 50;

  private final AbstractConnector connector;
  private final long deadlineNanos;
  private final long periodMs;
  private volatile Scheduler.Task next;

  HeaderDeadline(AbstractConnector connector, Duration deadline) {
    this.connector = connector;
    this.deadlineNanos = deadline.toNanos();
    this.periodMs = Math.max(MIN_PERIOD_MS, deadline.toMillis() / 10);
  }

  @Override
  protected void doStart() {
    schedule();
  }

  @Override
  protected void doStop() {
    Scheduler.Task task = next;
    if (task != null) {
      task.cancel();
    }
  }

  private void schedule() {
    if (isRunning()) {
      next = connector.getScheduler().schedule(this, periodMs, TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public void run() {
    try {
      long now = NanoTime.now();
      for (EndPoint endPoint : connector.getConnectedEndPoints()) {
        if (endPoint.getConnection() instanceof HttpConnection http && headersLate(http.getParser(), now)) {
          log.debug("closing {}: request headers not complete {} ms after their first byte",
              endPoint.getRemoteSocketAddress(), TimeUnit.NANOSECONDS.toMillis(deadlineNanos));
          endPoint.close(new TimeoutException("request headers not complete within the deadline"));
        }
      }
    } catch (RuntimeException e) {
      log.warn("header deadline check failed", e);
    } finally {
      schedule();
    }
  }

  private boolean headersLate(HttpParser parser, long now) {
    // The state is volatile and written after the begin time: read it first.
    HttpParser.State state = parser.getState();
    return state != HttpParser.State.START && state.ordinal() < HttpParser.State.CONTENT.ordinal()
        && NanoTime.elapsed(parser.getBeginNanoTime(), now) > deadlineNanos;
  }
}
