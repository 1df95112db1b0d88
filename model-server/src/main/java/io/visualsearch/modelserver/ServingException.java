package io.visualsearch.modelserver;

/**
 * A request the server cannot answer, with the reason class that both front ends map to their own
 * status (gRPC code, HTTP status). Messages are written for the caller: they name the model,
 * version, signature or input at fault.
 */
public final class ServingException extends RuntimeException {

  /**
   * Why a request failed; mirrors the gRPC codes TensorFlow Serving answers with, each with the
   * HTTP status TF Serving's REST server gives that code.
   */
  public enum Reason {
    NOT_FOUND(404),
    INVALID_ARGUMENT(400),
    /** TensorFlow's own code for some bad inputs (an index past a dimension's end). */
    OUT_OF_RANGE(400),
    FAILED_PRECONDITION(400),
    RESOURCE_EXHAUSTED(429),
    UNAVAILABLE(503),
    /** The caller gave up (deadline passed, call cancelled) before the request ran; 499 as in nginx. */
    CANCELLED(499),
    INTERNAL(500),
    // The rest arise only from a TensorFlow run, passed on with the code TensorFlow gave it.
    UNIMPLEMENTED(501),
    PERMISSION_DENIED(403),
    UNAUTHENTICATED(401),
    /** A TensorFlow failure whose code TensorFlow Java does not tell (see ServableVersion). */
    UNKNOWN(500);

    private final int httpStatus;

    Reason(int httpStatus) {
      this.httpStatus = httpStatus;
    }

    public int httpStatus() {
      return httpStatus;
    }
  }

  private final Reason reason;

  public ServingException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public ServingException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }

  public static ServingException notFound(String message) {
    return new ServingException(Reason.NOT_FOUND, message);
  }

  public static ServingException invalid(String message) {
    return new ServingException(Reason.INVALID_ARGUMENT, message);
  }

  public static ServingException unavailable(String message) {
    return new ServingException(Reason.UNAVAILABLE, message);
  }

  public static ServingException cancelled(String message) {
    return new ServingException(Reason.CANCELLED, message);
  }
}
