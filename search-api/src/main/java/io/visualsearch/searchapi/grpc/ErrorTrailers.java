package io.visualsearch.searchapi.grpc;

import io.grpc.Metadata;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;

/**
 * What an HTTP error answer says in its headers, said in a failed call's trailers: when to retry,
 * as gRPC's own pushback trailer, which a client's retry policy (for UNAVAILABLE, say) waits out
 * instead of its back-off, where HTTP says {@code Retry-After}; and the call's trace id, where
 * HTTP says {@code X-Trace-Id}, for the SRE a failed call is reported to.
 */
final class ErrorTrailers {

  /** Milliseconds before a retry (gRFC A6's server pushback). */
  static final Metadata.Key<String> RETRY_PUSHBACK_MS = Metadata.Key.of("grpc-retry-pushback-ms",
      Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> TRACE_ID = Metadata.Key.of("x-trace-id", Metadata.ASCII_STRING_MARSHALLER);

  private ErrorTrailers() {}

  /**
   * @param retryAfterSeconds when a retry may succeed, or null: not by waiting
   */
  static Metadata of(Integer retryAfterSeconds) {
    Metadata trailers = new Metadata();
    if (retryAfterSeconds != null) {
      trailers.put(RETRY_PUSHBACK_MS, Long.toString(retryAfterSeconds * 1000L));
    }
    SpanContext trace = Span.current().getSpanContext();
    if (trace.isValid()) {
      trailers.put(TRACE_ID, trace.getTraceId());
    }
    return trailers;
  }
}
