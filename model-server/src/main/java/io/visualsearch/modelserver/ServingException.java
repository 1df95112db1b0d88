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
  private final boolean fromRun;

  public ServingException(Reason reason, String message) {
    this(reason, message, null, false);
  }

  public ServingException(Reason reason, String message, Throwable cause) {
    this(reason, message, cause, false);
  }

  private ServingException(Reason reason, String message, Throwable cause, boolean fromRun) {
    super(message, cause);
    this.reason = reason;
    this.fromRun = fromRun;
  }

  /** A failed TensorFlow run, answered with TensorFlow's own code (see ServableVersion). */
  static ServingException fromRun(Reason reason, String message, Throwable cause) {
    return new ServingException(reason, message, cause, true);
  }

  public Reason reason() {
    return reason;
  }

  /**
   * Whether the model's run failed for a reason other than its input: whatever code TensorFlow
   * gave it (a FAILED_PRECONDITION from a table the model could not initialise, say), it is the
   * server's or the model's fault, and logged as such.
   */
  boolean isModelFault() {
    return fromRun && reason != Reason.INVALID_ARGUMENT && reason != Reason.OUT_OF_RANGE;
  }

  /**
   * Whether the failure is logged where it is answered (over gRPC and REST alike): the server's own
   * (INTERNAL, UNKNOWN) and a run's own failure, whatever code TensorFlow gave it; a model whose
   * every run fails FAILED_PRECONDITION left nothing in the log while clients backed off.
   */
  boolean isLogged() {
    return reason == Reason.INTERNAL || reason == Reason.UNKNOWN || isModelFault();
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
