package io.visualsearch.searchapi.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
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
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
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
      HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/api/v1/search")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(503, r.statusCode());
      assertEquals("1", r.headers().firstValue("Retry-After").orElse(""));
      assertTrue(r.body().contains("\"error\":\"stopping\""), r.body());
      assertEquals("close", r.headers().firstValue("Connection").orElse(""));
    } finally {
      server.stop();
    }
  }
}
