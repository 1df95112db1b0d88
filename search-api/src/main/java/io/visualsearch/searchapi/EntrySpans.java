package io.visualsearch.searchapi;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.visualsearch.tracing.GrpcTracing;
import io.visualsearch.tracing.Tracing;

/**
 * The SERVER span of a call from outside (the HTTP API, the gRPC service) starts a trace of our own,
 * sampled by our ratio, and links to the caller's span when its headers name one. Continued as a
 * parent, the caller's context decided for us: anyone sending a sampled {@code traceparent} (or B3)
 * had every span of every request recorded, here and downstream (model server, search.responses,
 * response-consumer), ten times Zipkin's traffic at ratio 0.1, overflowing the span queue and
 * dropping legitimate traces; and the caller chose the trace id a ratio sampler keys on. The link
 * keeps a storefront back end's trace findable from ours. Internal hops (Kafka records, the
 * model-server call) still continue their parent.
 */
public final class EntrySpans {

  private final Tracing tracing;

  public EntrySpans(Tracing tracing) {
    this.tracing = tracing;
  }

  /** A span builder for a new root trace, linked to the span {@code carrier}'s headers name, if any. */
  public <C> SpanBuilder rootLinkedToCaller(String name, C carrier, TextMapGetter<C> getter) {
    SpanBuilder builder = tracing.tracer().spanBuilder(name).setNoParent();
    SpanContext caller = caller(carrier, getter);
    if (caller.isValid()) {
      builder.addLink(caller);
    }
    return builder;
  }

  /**
   * {@code serverTracing} (tracing's gRPC server interceptor, which continues whatever context the
   * headers it is given carry) made to start a new root linked to the caller's span: it is given no
   * headers at all, so it extracts nothing, and the calls behind it get the caller's own headers.
   */
  public ServerInterceptor grpc(ServerInterceptor serverTracing) {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        SpanContext caller = caller(headers, GrpcTracing.GETTER);
        return serverTracing.interceptCall(call, new Metadata(), (traced, none) -> {
          if (caller.isValid()) {
            // The span serverTracing just started is current here.
            Span.current().addLink(caller);
          }
          return next.startCall(traced, headers);
        });
      }
    };
  }

  private <C> SpanContext caller(C carrier, TextMapGetter<C> getter) {
    return Span.fromContext(tracing.propagator().extract(Context.root(), carrier, getter)).getSpanContext();
  }
}
