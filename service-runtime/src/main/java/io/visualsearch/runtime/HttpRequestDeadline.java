package io.visualsearch.runtime;

import java.time.Duration;

/**
 * How long a request may take to arrive at the JDK's HTTP server ({@code com.sun.net.httpserver}),
 * which serves every ops port, the model server's REST API and catalog-downloader's sync endpoint.
 * That server reads a request's head and body on a handler thread and has no read timeout of its
 * own: a client that stalls mid-request, or vanishes without closing, holds the thread for good,
 * and the ops server has two. Its limit is the JDK's {@code sun.net.httpserver.maxReqTime}, a
 * process-wide system property read once, when the process creates its first such server; so it
 * is set at the top of each process's main, before anything listens.
 */
public final class HttpRequestDeadline {

  static final String PROPERTY = "sun.net.httpserver.maxReqTime";

  private HttpRequestDeadline() {}

  /**
   * Sets the limit to {@code limit} in whole seconds (rounded up; zero leaves requests unlimited)
   * unless the JVM was started with the property, which then wins.
   */
  public static void apply(Duration limit) {
    if (System.getProperty(PROPERTY) == null && !limit.isZero()) {
      System.setProperty(PROPERTY, Long.toString(limit.plusNanos(999_999_999).getSeconds()));
    }
  }
}
