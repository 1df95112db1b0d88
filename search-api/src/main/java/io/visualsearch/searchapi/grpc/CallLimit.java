package io.visualsearch.searchapi.grpc;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.visualsearch.searchapi.http.UploadBudget;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * At most {@code maxCalls} gRPC calls in flight, and one tenant at most {@link #TENANT_SHARE} of
 * them; the next is refused at once with RESOURCE_EXHAUSTED {@code overloaded}, before its message
 * is asked for. gRPC's default executor starts a thread for every call, and each call's message
 * (up to the server's inbound limit, ~10 MiB) takes its bytes from the upload budget as it arrives
 * ({@link RequestArrival}): without a bound on places, calls beyond what the budget can read would
 * still each hold a thread and a connection's buffers. Without a
 * share, one key's calls that never send their message (a stalled client, or a leaked key) held
 * every place, and every other tenant's gRPC searches were refused for as long as they lasted.
 * The place is given back when the call ends, answered or cancelled.
 *
 * <p>Runs inside the credentials interceptor, which puts the caller's tenant into the call's
 * context ({@link VisualSearchService#TENANT}).
 */
final class CallLimit implements ServerInterceptor {

  /** The share one tenant's uploads get on the HTTP side too. */
  static final double TENANT_SHARE = UploadBudget.TENANT_SHARE;

  private final Semaphore calls;
  private final int maxCalls;
  private final int perTenant;
  private final ConcurrentHashMap<String, Integer> tenantCalls = new ConcurrentHashMap<>();

  CallLimit(int maxCalls) {
    if (maxCalls <= 0) {
      throw new IllegalArgumentException("a call limit must be positive");
    }
    this.calls = new Semaphore(maxCalls);
    this.maxCalls = maxCalls;
    this.perTenant = Math.max(1, (int) (maxCalls * TENANT_SHARE));
  }

  /** Calls that may start now. */
  int available() {
    return calls.availablePermits();
  }

  private boolean enterTenant(String tenant) {
    boolean[] entered = {false};
    tenantCalls.compute(tenant, (t, n) -> {
      int now = n == null ? 0 : n;
      if (now >= perTenant) {
        return n;
      }
      entered[0] = true;
      return now + 1;
    });
    return entered[0];
  }

  private void leaveTenant(String tenant) {
    tenantCalls.computeIfPresent(tenant, (t, n) -> n <= 1 ? null : n - 1);
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    String tenant = String.valueOf(VisualSearchService.TENANT.get());
    // The service full is said as such, whoever holds the places; only with places left is a
    // refusal the tenant's own burst.
    boolean full = calls.availablePermits() == 0;
    if (!full && !enterTenant(tenant)) {
      // The tenant's own burst, as HTTP's tenant_overloaded (503): UNAVAILABLE, which a client
      // retries with back-off; RESOURCE_EXHAUSTED says the whole service is full.
      call.close(Status.UNAVAILABLE.withDescription("tenant_overloaded: this API key's tenant has " + perTenant
          + " gRPC calls in flight, retry shortly"), ErrorTrailers.of(1));
      return new ServerCall.Listener<>() { };
    }
    if (full || !calls.tryAcquire()) {
      if (!full) {
        leaveTenant(tenant);
      }
      call.close(Status.RESOURCE_EXHAUSTED.withDescription("overloaded: the search service has " + maxCalls
          + " gRPC calls in flight, retry shortly"), ErrorTrailers.of(1));
      return new ServerCall.Listener<>() { };
    }
    AtomicBoolean released = new AtomicBoolean();
    Runnable release = () -> {
      if (released.compareAndSet(false, true)) {
        calls.release();
        leaveTenant(tenant);
      }
    };
    ServerCall.Listener<Q> listener;
    try {
      listener = next.startCall(call, headers);
    } catch (RuntimeException | Error e) {
      release.run();
      throw e;
    }
    // Every started call ends with exactly one of onComplete and onCancel.
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onComplete() {
        try {
          super.onComplete();
        } finally {
          release.run();
        }
      }

      @Override
      public void onCancel() {
        try {
          super.onCancel();
        } finally {
          release.run();
        }
      }
    };
  }
}
