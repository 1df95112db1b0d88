package io.visualsearch.tracing;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class GrpcTracingTest {

  private static final MethodDescriptor.Marshaller<String> TEXT = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(String value) {
      return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String parse(InputStream stream) {
      try {
        return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };
  private static final MethodDescriptor<String, String> ECHO = MethodDescriptor.<String, String>newBuilder()
      .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("test.Echo/Echo")
      .setRequestMarshaller(TEXT).setResponseMarshaller(TEXT).build();

  private final InMemorySpanExporter clientSpans = InMemorySpanExporter.create();
  private final InMemorySpanExporter serverSpans = InMemorySpanExporter.create();
  private final Tracing client = Tracing.withExporter("client", clientSpans);
  private final Tracing server = Tracing.withExporter("server", serverSpans);
  private final AtomicReference<String> traceIdSeenByHandler = new AtomicReference<>();
  private final CountDownLatch slowCallCancelled = new CountDownLatch(1);
  private Server grpcServer;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws IOException {
    String name = InProcessServerBuilder.generateName();
    ServerServiceDefinition echo = ServerServiceDefinition.builder("test.Echo")
        .addMethod(ECHO, ServerCalls.asyncUnaryCall((request, observer) -> {
          traceIdSeenByHandler.set(Span.current().getSpanContext().getTraceId());
          if (request.equals("slow")) {
            // Never answers: the client's deadline passes first, as with a stuck model run.
            io.grpc.Context.current().addListener(c -> slowCallCancelled.countDown(), Runnable::run);
            return;
          }
          if (request.equals("throw")) {
            throw new IllegalStateException("handler bug");
          }
          if (request.equals("fail")) {
            observer.onError(Status.INVALID_ARGUMENT.withDescription("bad input").asRuntimeException());
            return;
          }
          observer.onNext("echo " + request);
          observer.onCompleted();
        }))
        .build();
    grpcServer = InProcessServerBuilder.forName(name)
        .addService(ServerInterceptors.intercept(echo, new GrpcTracing(server).serverInterceptor()))
        .build().start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  @AfterEach
  void stop() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    grpcServer.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    client.close();
    server.close();
  }

  /** The server span, once ended: gRPC may end the call on another thread than the client's answer. */
  private SpanData awaitServerSpan() {
    await().atMost(Duration.ofSeconds(5)).until(() -> {
      server.flush();
      return !serverSpans.getFinishedSpanItems().isEmpty();
    });
    return only(serverSpans.getFinishedSpanItems());
  }

  private String call(String request, CallOptions options) {
    return ClientCalls.blockingUnaryCall(ClientInterceptors.intercept(channel, new GrpcTracing(client).clientInterceptor()),
        ECHO, options, request);
  }

  @Test
  void theServerSpanContinuesTheClientsTraceAndIsCurrentInTheHandler() {
    assertEquals("echo hi", call("hi", CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS)));
    client.flush();
    server.flush();
    SpanData clientSpan = only(clientSpans.getFinishedSpanItems());
    SpanData serverSpan = only(serverSpans.getFinishedSpanItems());
    assertEquals(SpanKind.CLIENT, clientSpan.getKind());
    assertEquals(SpanKind.SERVER, serverSpan.getKind());
    assertEquals(clientSpan.getTraceId(), serverSpan.getTraceId());
    assertEquals(clientSpan.getSpanId(), serverSpan.getParentSpanId());
    assertEquals(serverSpan.getTraceId(), traceIdSeenByHandler.get());
    assertEquals("test.Echo/Echo", serverSpan.getName());
  }

  @Test
  void anErrorStatusMarksBothSpans() {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> call("fail", CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS)));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    client.flush();
    server.flush();
    for (SpanData span : List.of(only(clientSpans.getFinishedSpanItems()), only(serverSpans.getFinishedSpanItems()))) {
      assertEquals(StatusCode.ERROR, span.getStatus().getStatusCode(), span.getKind().toString());
      assertTrue(span.getStatus().getDescription().contains("INVALID_ARGUMENT"), span.getStatus().getDescription());
    }
  }

  @Test
  void aHandlerThatThrowsEndsItsServerSpanWithTheExceptionRecorded() {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> call("throw", CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS)));
    assertEquals(Status.Code.UNKNOWN, e.getStatus().getCode());
    SpanData serverSpan = awaitServerSpan();
    assertEquals(StatusCode.ERROR, serverSpan.getStatus().getStatusCode());
    assertTrue(serverSpan.getStatus().getDescription().startsWith("UNKNOWN"), serverSpan.getStatus().getDescription());
    assertTrue(serverSpan.getEvents().stream().anyMatch(ev -> ev.getName().equals("exception")),
        "the handler's exception is on the span: " + serverSpan.getEvents());
  }

  @Test
  void aCallWhoseDeadlinePassesStillEndsItsServerSpan() throws InterruptedException {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> call("slow", CallOptions.DEFAULT.withDeadlineAfter(200, TimeUnit.MILLISECONDS)));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
    assertTrue(slowCallCancelled.await(5, TimeUnit.SECONDS), "the server saw the cancellation");
    // The handler hears of the cancellation through its Context, which gRPC cancels before (and on
    // another thread than) it tells the call's listener, where the span ends: wait for the span.
    SpanData serverSpan = awaitServerSpan();
    assertEquals(StatusCode.ERROR, serverSpan.getStatus().getStatusCode());
    assertTrue(serverSpan.getStatus().getDescription().startsWith("CANCELLED"), serverSpan.getStatus().getDescription());
    client.flush();
    assertEquals(serverSpan.getTraceId(), only(clientSpans.getFinishedSpanItems()).getTraceId());
  }

  private static SpanData only(List<SpanData> spans) {
    assertEquals(1, spans.size(), spans.toString());
    return spans.get(0);
  }
}
