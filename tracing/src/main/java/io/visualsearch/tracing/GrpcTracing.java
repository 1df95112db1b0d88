package io.visualsearch.tracing;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapSetter;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * gRPC interceptors: the client side starts a CLIENT span and writes its context into call
 * metadata; the server side continues it as a SERVER span, current while the handler runs. The
 * server span ends when the call is closed or, if the client gave up first (deadline, cancel),
 * when the cancellation arrives: a handler need not close a call its client cancelled (the answer
 * would go nowhere), and waiting for that close would leave exactly the slow calls out of the trace.
 */
public final class GrpcTracing {

  private static final TextMapSetter<Metadata> SETTER =
      (md, key, value) -> md.put(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER), value);

  /** Reads trace headers from gRPC metadata (ASCII keys), for a caller extracting a context itself. */
  public static final TextMapGetter<Metadata> GETTER = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(Metadata md) {
      return md.keys();
    }

    @Override
    public String get(Metadata md, String key) {
      return md == null ? null : md.get(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
    }
  };

  private final Tracing tracing;

  public GrpcTracing(Tracing tracing) {
    this.tracing = tracing;
  }

  public ClientInterceptor clientInterceptor() {
    return new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        Span span = tracing.tracer().spanBuilder(method.getFullMethodName()).setSpanKind(SpanKind.CLIENT)
            .setAttribute("rpc.system", "grpc").setAttribute("rpc.method", method.getFullMethodName())
            .startSpan();
        Context ctx = Context.current().with(span);
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
          @Override
          public void start(Listener<R> listener, Metadata headers) {
            tracing.propagator().inject(ctx, headers, SETTER);
            super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
              @Override
              public void onClose(Status status, Metadata trailers) {
                end(span, status);
                super.onClose(status, trailers);
              }
            }, headers);
          }
        };
      }
    };
  }

  public ServerInterceptor serverInterceptor() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        Context parent = tracing.propagator().extract(Context.root(), headers, GETTER);
        String method = call.getMethodDescriptor().getFullMethodName();
        Span span = tracing.tracer().spanBuilder(method).setParent(parent).setSpanKind(SpanKind.SERVER)
            .setAttribute("rpc.system", "grpc").setAttribute("rpc.method", method).startSpan();
        AtomicBoolean ended = new AtomicBoolean();
        Context ctx = parent.with(span);
        ServerCall<Q, R> traced = new io.grpc.ForwardingServerCall.SimpleForwardingServerCall<>(call) {
          @Override
          public void close(Status status, Metadata trailers) {
            endOnce(span, ended, status);
            super.close(status, trailers);
          }
        };
        ServerCall.Listener<Q> delegate;
        try (Scope ignored = ctx.makeCurrent()) {
          delegate = next.startCall(traced, headers);
        } catch (RuntimeException e) {
          span.recordException(e);
          endOnce(span, ended, Status.fromThrowable(e));
          throw e;
        }
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
          @Override
          public void onMessage(Q message) {
            try (Scope ignored = ctx.makeCurrent()) {
              super.onMessage(message);
            } catch (RuntimeException | Error e) {
              failed(e);
              throw e;
            }
          }

          @Override
          public void onHalfClose() {
            try (Scope ignored = ctx.makeCurrent()) {
              super.onHalfClose();
            } catch (RuntimeException | Error e) {
              failed(e);
              throw e;
            }
          }

          /**
           * gRPC answers a handler's exception by cancelling the stream itself, around the call's
           * close: without this the span never ended (GrpcTracingTest), the error unrecorded.
           */
          private void failed(Throwable e) {
            span.recordException(e);
            endOnce(span, ended, Status.UNKNOWN.withDescription("the handler threw " + e).withCause(e));
          }

          @Override
          public void onCancel() {
            try (Scope ignored = ctx.makeCurrent()) {
              super.onCancel();
            } finally {
              endOnce(span, ended, Status.CANCELLED.withDescription("the client cancelled the call or its deadline passed"));
            }
          }
        };
      }
    };
  }

  private static void endOnce(Span span, AtomicBoolean ended, Status status) {
    if (ended.compareAndSet(false, true)) {
      end(span, status);
    }
  }

  private static void end(Span span, Status status) {
    span.setAttribute("rpc.grpc.status_code", status.getCode().value());
    if (!status.isOk()) {
      span.setStatus(StatusCode.ERROR, status.getCode() + ": " + status.getDescription());
    }
    span.end();
  }
}
