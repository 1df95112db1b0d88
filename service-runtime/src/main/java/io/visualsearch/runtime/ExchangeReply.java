package io.visualsearch.runtime;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Writes a whole answer on the JDK's HTTP server, the way every port served with it (ops, the
 * model server's REST API) must: a HEAD request gets the status and headers and no body. Given a
 * length, the JDK server logs a warning for a HEAD, then fails the body's write and drops the
 * connection; an uptime checker using HEAD saw errors and the model server counted 500s.
 */
public final class ExchangeReply {

  private ExchangeReply() {}

  /** Sends {@code body} with {@code status} and {@code contentType}; only the headers for a HEAD. */
  public static void send(HttpExchange ex, int status, String contentType, byte[] body) throws IOException {
    ex.getResponseHeaders().set("Content-Type", contentType);
    if (ex.getRequestMethod().equals("HEAD")) {
      ex.sendResponseHeaders(status, -1);
      return;
    }
    ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    try (OutputStream os = ex.getResponseBody()) {
      os.write(body);
    }
  }
}
