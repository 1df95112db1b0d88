package io.visualsearch.searchapi;

/**
 * A request that cannot be answered, with the HTTP status and the short machine-readable code the
 * client gets as {@code {"error": code, "message": message}}. Messages are written for the
 * storefront developer and never contain secrets or internal paths.
 */
public final class ApiException extends RuntimeException {

  private final int status;
  private final String code;
  private final Integer retryAfterSeconds;

  public ApiException(int status, String code, String message) {
    this(status, code, message, null, null);
  }

  public ApiException(int status, String code, String message, Integer retryAfterSeconds, Throwable cause) {
    super(message, cause, false, false);
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public static ApiException badRequest(String code, String message) {
    return new ApiException(400, code, message);
  }

  public static ApiException unauthorized(String code, String message) {
    return new ApiException(401, code, message);
  }

  public static ApiException forbidden(String code, String message) {
    return new ApiException(403, code, message);
  }

  public static ApiException notFound(String code, String message) {
    return new ApiException(404, code, message);
  }

  public static ApiException tooLarge(String code, String message) {
    return new ApiException(413, code, message);
  }

  public static ApiException unsupportedMedia(String code, String message) {
    return new ApiException(415, code, message);
  }

  public static ApiException unprocessable(String code, String message) {
    return new ApiException(422, code, message);
  }

  public static ApiException unavailable(String code, String message, int retryAfterSeconds, Throwable cause) {
    return new ApiException(503, code, message, retryAfterSeconds, cause);
  }

  public int status() {
    return status;
  }

  /**
   * A failure of the service (a dependency broke), which the health page counts as an error: a 5xx
   * with a cause. Expected states answered 5xx (no index yet, overload) have none.
   */
  public boolean isServiceFault() {
    return status >= 500 && getCause() != null;
  }

  public String code() {
    return code;
  }

  public Integer retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
