package io.visualsearch.tracing;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.trace.IdGenerator;

/**
 * Calls made on no one's behalf (a model-version poll every few seconds, a readiness probe) are
 * not traces: each was a root trace, hundreds an hour per instance, burying the product and query
 * traces the health page links to. Inside a trace they stay part of it.
 */
public final class Untraced {

  private static final IdGenerator IDS = IdGenerator.random();

  private Untraced() {}

  /**
   * Until the scope closes, calls on this thread have a parent that is not sampled, unless a
   * trace is current: the parent-based sampler then records nothing here, and the flags sent
   * downstream tell the server not to record either.
   */
  public static Scope unlessInTrace() {
    if (Span.current().getSpanContext().isValid()) {
      return Scope.noop();
    }
    SpanContext unsampled = SpanContext.create(IDS.generateTraceId(), IDS.generateSpanId(), TraceFlags.getDefault(),
        TraceState.getDefault());
    return Context.current().with(Span.wrap(unsampled)).makeCurrent();
  }
}
