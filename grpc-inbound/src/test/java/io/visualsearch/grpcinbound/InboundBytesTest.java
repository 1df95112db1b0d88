package io.visualsearch.grpcinbound;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Over a real transport: a call's meter gets its request's bytes, frame by frame, before the
 * handler gets the message.
 */
class InboundBytesTest {

  static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };

  static final MethodDescriptor<byte[], byte[]> ECHO_LENGTH = MethodDescriptor.<byte[], byte[]>newBuilder()
      .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("test.Bytes/Length")
      .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();

  Server server;
  ManagedChannel channel;

  @AfterEach
  void stop() {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.shutdownNow();
    }
  }

  /**
   * A server whose one method answers its request's length, behind {@code interceptor}; when it
   * handles a request it copies {@code metered} into {@code meteredWhenHandled}.
   */
  void start(InboundBytes inbound, ServerInterceptor interceptor, AtomicLong metered, AtomicLong meteredWhenHandled)
      throws IOException {
    ServerServiceDefinition service = ServerServiceDefinition.builder("test.Bytes")
        .addMethod(ECHO_LENGTH, ServerCalls.asyncUnaryCall((request, out) -> {
          meteredWhenHandled.set(metered.get());
          out.onNext(Integer.toString(request.length).getBytes());
          out.onCompleted();
        })).build();
    NettyServerBuilder b = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .maxInboundMessageSize(16 << 20).addService(ServerInterceptors.intercept(service, interceptor));
    if (inbound != null) {
      b.addStreamTracerFactory(inbound.tracerFactory());
    }
    server = b.build().start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext()
        .maxInboundMessageSize(16 << 20).build();
  }

  byte[] call(int bytes) {
    return ClientCalls.blockingUnaryCall(channel, ECHO_LENGTH, CallOptions.DEFAULT.withDeadlineAfter(30,
        TimeUnit.SECONDS), new byte[bytes]);
  }

  @Test
  void aCallsMeterGetsItsRequestsBytesFrameByFrameBeforeTheHandlerHasTheMessage() throws Exception {
    InboundBytes inbound = new InboundBytes();
    List<Long> chunks = new ArrayList<>();
    AtomicLong total = new AtomicLong();
    AtomicLong atHandler = new AtomicLong();
    AtomicBoolean metered = new AtomicBoolean();
    start(inbound, new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        metered.set(inbound.meter(bytes -> {
          synchronized (chunks) {
            chunks.add(bytes);
          }
          total.addAndGet(bytes);
        }));
        return next.startCall(call, headers);
      }
    }, total, atHandler);
    int size = 3 << 20;
    assertArrayEquals(Integer.toString(size).getBytes(), call(size));
    assertTrue(metered.get());
    assertEquals(size, atHandler.get(), "every byte of the message metered before the handler had it");
    synchronized (chunks) {
      assertTrue(chunks.size() > 1, "reported as it arrived, not once at the end: " + chunks.size());
    }
  }

  @Test
  void aServerBuiltWithoutTheTracerMetersNothingAndSaysSo() throws Exception {
    InboundBytes inbound = new InboundBytes();
    AtomicBoolean metered = new AtomicBoolean(true);
    start(null, new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        metered.set(inbound.meter(bytes -> { }));
        return next.startCall(call, headers);
      }
    }, new AtomicLong(), new AtomicLong());
    call(10);
    assertEquals(false, metered.get());
  }
}
