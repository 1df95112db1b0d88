package io.visualsearch.searchapi.http;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.LocalConnector;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.junit.jupiter.api.Test;

/** Errors Jetty answers itself, on a real Jetty. */
class JsonErrorHandlerTest {

  /**
   * A request refused by the graceful stop on a kept-alive connection came back 503 without
   * Retry-After, breaking the API's 503 contract, and the client's next try used the dying
   * instance's connection again.
   */
  @Test
  void theStopsRefusalKeepsThe503ContractAndClosesTheConnection() throws Exception {
    Server server = new Server();
    LocalConnector connector = new LocalConnector(server);
    server.addConnector(connector);
    server.setHandler(new Handler.Abstract() {
      @Override
      public boolean handle(org.eclipse.jetty.server.Request request, Response response,
          org.eclipse.jetty.util.Callback callback) {
        // What GracefulHandler does with a request that arrives while the server stops.
        Response.writeError(request, response, callback, HttpStatus.SERVICE_UNAVAILABLE_503);
        return true;
      }
    });
    server.setErrorHandler(new JsonErrorHandler());
    server.start();
    try {
      String answer = connector.getResponse("GET /api/v1/search HTTP/1.1\r\nHost: shop\r\n\r\n", 10, TimeUnit.SECONDS);
      assertTrue(answer.startsWith("HTTP/1.1 503"), answer);
      assertTrue(answer.contains("Retry-After: 1"), answer);
      assertTrue(answer.contains("Connection: close"), answer);
      assertTrue(answer.contains("\"error\":\"stopping\""), answer);
    } finally {
      server.stop();
    }
  }
}
