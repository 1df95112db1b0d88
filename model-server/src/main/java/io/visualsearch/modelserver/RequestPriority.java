package io.visualsearch.modelserver;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/**
 * Whether a gRPC call is a shopper's ({@code x-request-priority: interactive}, which search-api's
 * model client sends) or catalog work (any other value, or none: TensorFlow Serving's own clients
 * send none). The batcher runs interactive requests first and keeps part of its queue for them, so
 * a catalog backfill's hundreds of queued images do not stand between a shopper and the model.
 */
final class RequestPriority implements ServerInterceptor {

  static final Metadata.Key<String> HEADER = Metadata.Key.of("x-request-priority", Metadata.ASCII_STRING_MARSHALLER);
  static final String INTERACTIVE = "interactive";
  private static final Context.Key<Boolean> INTERACTIVE_CALL = Context.keyWithDefault("interactive-call", false);

  /** Whether the call being handled on this thread asked for interactive priority. */
  static boolean interactive() {
    return INTERACTIVE_CALL.get();
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    if (!INTERACTIVE.equals(headers.get(HEADER))) {
      return next.startCall(call, headers);
    }
    return Contexts.interceptCall(Context.current().withValue(INTERACTIVE_CALL, true), call, headers, next);
  }
}
