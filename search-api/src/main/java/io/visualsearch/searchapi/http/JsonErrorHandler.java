package io.visualsearch.searchapi.http;

import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Errors Jetty raises itself (malformed request line, oversized headers, the graceful stop's
 * refusal) in the API's JSON shape instead of Jetty's HTML page, without echoing request data.
 */
final class JsonErrorHandler extends ErrorHandler {

  private final AnswerJson json = new AnswerJson();

  @Override
  protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
      Callback callback) {
    String reason = HttpStatus.getMessage(code);
    byte[] body;
    if (code == HttpStatus.SERVICE_UNAVAILABLE_503) {
      // The graceful stop refusing a request on a kept-alive connection: the API's 503 contract
      // (Retry-After), and the connection closed so the client's next try reaches another instance.
      body = json.error("stopping", "this instance is stopping; retry, another instance answers");
      response.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
      response.getHeaders().put(HttpHeader.CONNECTION, "close");
    } else {
      body = json.error(code >= 500 ? "server_error" : "bad_request", reason == null ? "error " + code : reason);
    }
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json; charset=utf-8");
    response.write(true, ByteBuffer.wrap(body), callback);
  }

  @Override
  public ByteBuffer badMessageError(int status, String reason, org.eclipse.jetty.http.HttpFields.Mutable fields) {
    fields.put(HttpHeader.CONTENT_TYPE, "application/json; charset=utf-8");
    String msg = HttpStatus.getMessage(status);
    return ByteBuffer.wrap(json.error("bad_request", msg == null ? "bad request" : msg));
  }

}
