package io.visualsearch.grpcinbound;

import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.ServerStreamTracer;

/**
 * Hands a server call the bytes of its request as the transport reads them, so that a call can
 * be charged for what it holds before its message is whole. gRPC reports them (per frame, ~16 KiB)
 * only to stream tracers, which see no call and no tenant; an interceptor sees both but no bytes.
 * The tracer this factory builds puts a slot into the call's context, and an interceptor of the
 * same instance claims it with {@link #meter}.
 *
 * <p>Bytes read before the call is metered (none in practice: the transport reads a message only
 * once the handler asks for it, after the interceptors ran) are kept and handed over when it is.
 */
public final class InboundBytes {

  /** What a call does with its request's bytes; called on the transport's thread. */
  @FunctionalInterface
  public interface Meter {
    void arrived(long bytes);
  }

  private final Context.Key<Slot> key = Context.key("inbound-bytes");

  /** The stream tracer factory the server must be built with. */
  public ServerStreamTracer.Factory tracerFactory() {
    return new ServerStreamTracer.Factory() {
      @Override
      public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
        Slot slot = new Slot();
        return new ServerStreamTracer() {
          @Override
          public Context filterContext(Context context) {
            return context.withValue(key, slot);
          }

          @Override
          public void inboundWireSize(long bytes) {
            slot.arrived(bytes);
          }
        };
      }
    };
  }

  /**
   * From inside an interceptor: the current call's request bytes go to {@code meter} from now on.
   * False when the call has no slot (a server built without {@link #tracerFactory}, or a
   * transport that reports no sizes): nothing will be metered.
   */
  public boolean meter(Meter meter) {
    Slot slot = key.get();
    if (slot == null) {
      return false;
    }
    slot.attach(meter);
    return true;
  }

  private static final class Slot {
    private Meter meter;
    private long early;

    synchronized void attach(Meter m) {
      meter = m;
      if (early > 0) {
        long bytes = early;
        early = 0;
        m.arrived(bytes);
      }
    }

    synchronized void arrived(long bytes) {
      if (meter == null) {
        early += bytes;
      } else {
        meter.arrived(bytes);
      }
    }
  }
}
