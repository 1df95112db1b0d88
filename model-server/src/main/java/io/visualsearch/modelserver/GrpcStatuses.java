package io.visualsearch.modelserver;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Maps failures to the gRPC status TensorFlow Serving would answer with. */
final class GrpcStatuses {

  private static final Logger log = LoggerFactory.getLogger(GrpcStatuses.class);

  private GrpcStatuses() {}

  static StatusRuntimeException toStatus(Throwable error) {
    Throwable e = unwrap(error);
    if (e instanceof ServingException se) {
      Status.Code code = switch (se.reason()) {
        case NOT_FOUND -> Status.Code.NOT_FOUND;
        case INVALID_ARGUMENT -> Status.Code.INVALID_ARGUMENT;
        case OUT_OF_RANGE -> Status.Code.OUT_OF_RANGE;
        case FAILED_PRECONDITION -> Status.Code.FAILED_PRECONDITION;
        case RESOURCE_EXHAUSTED -> Status.Code.RESOURCE_EXHAUSTED;
        case UNAVAILABLE -> Status.Code.UNAVAILABLE;
        case CANCELLED -> Status.Code.CANCELLED;
        case INTERNAL -> Status.Code.INTERNAL;
        case UNIMPLEMENTED -> Status.Code.UNIMPLEMENTED;
        case PERMISSION_DENIED -> Status.Code.PERMISSION_DENIED;
        case UNAUTHENTICATED -> Status.Code.UNAUTHENTICATED;
        case UNKNOWN -> Status.Code.UNKNOWN;
      };
      if (se.isLogged()) {
        log.error("request failed inside the server", e);
      }
      // The cause stays in this process (gRPC sends the code and description only): it tells the
      // call metrics a model's fault from a caller's mistake answered with the same code.
      return Status.fromCode(code).withDescription(se.getMessage()).withCause(se).asRuntimeException();
    }
    if (e instanceof StatusRuntimeException sre) {
      return sre;
    }
    log.error("unexpected failure serving a request", e);
    return Status.INTERNAL.withDescription("internal error: " + e.getClass().getSimpleName()).asRuntimeException();
  }

  /**
   * Whether {@code status}, as {@link #toStatus} made it, answers a run that failed through the
   * model's fault ({@link ServingException#isModelFault}): an unknown signature and a table the
   * model could not initialise are both FAILED_PRECONDITION, and only the first is the caller's.
   */
  static boolean isModelFault(Status status) {
    return status.getCause() instanceof ServingException se && se.isModelFault();
  }

  static Throwable unwrap(Throwable e) {
    while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }
}
