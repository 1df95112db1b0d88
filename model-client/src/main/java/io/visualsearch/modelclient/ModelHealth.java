package io.visualsearch.modelclient;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.opentelemetry.context.Scope;
import io.visualsearch.proto.tfserving.GetModelMetadataResponse;
import io.visualsearch.proto.tfserving.GetModelStatusRequest;
import io.visualsearch.proto.tfserving.GetModelStatusResponse;
import io.visualsearch.proto.tfserving.ModelServiceGrpc;
import io.visualsearch.proto.tfserving.ModelSpec;
import io.visualsearch.proto.tfserving.ModelVersionStatus;
import io.visualsearch.proto.tfserving.SignatureDefMap;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.tracing.Untraced;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Whether the model server can be called, for {@link ModelClient#check()}: the failure of the last
 * call (cleared by a call that succeeds), how a failed call is classified, and the probe that asks
 * the server itself whether it is back.
 *
 * <p>Threads: every thread that calls the model server (consumer threads, gRPC handler threads)
 * records its call's outcome here, and the readiness check's thread (/readyz, heartbeat) calls
 * {@link #check()}, which may probe. {@code lastError} is volatile and {@code failureSeenNanos}
 * atomic; of concurrent check() calls after a failure, the one whose compareAndSet wins probes.
 */
final class ModelHealth {

  /** Within a readiness probe's own timeout. */
  private static final Duration PROBE_DEADLINE = Duration.ofSeconds(2);

  private final ModelChannel channel;
  private final String target;
  private final String model;
  /** The signature the probe requires the served version to have. */
  private final String signature;
  /** How long after a failure check() asks the server itself whether it is back. */
  private final Duration probeAfterFailure;
  private volatile String lastError;
  /** When the failure in lastError happened, or check() last probed the server about it. */
  private final AtomicLong failureSeenNanos = new AtomicLong();

  ModelHealth(ModelChannel channel, String target, String model, String signature, Duration probeAfterFailure) {
    this.probeAfterFailure = probeAfterFailure;
    this.channel = channel;
    this.target = target;
    this.model = model;
    this.signature = signature;
  }

  /** A call with the model answered: a failure remembered from an earlier call is cleared. */
  void callSucceeded() {
    lastError = null;
  }

  /**
   * Asks the server how the model is: a remembered failure clears only when some version is
   * AVAILABLE. A server still loading (or failing to load) its model answers too, and a service
   * made ready by that answer would be sent queries that all fail, again and again.
   */
  private void probe(Duration callDeadline) throws ModelUnavailableException {
    GetModelStatusResponse status;
    try (Scope ignored = Untraced.unlessInTrace()) {
      status = answered(() -> ModelServiceGrpc.newBlockingStub(channel.get())
          .withDeadlineAfter(callDeadline.toMillis(), TimeUnit.MILLISECONDS)
          .getModelStatus(GetModelStatusRequest.newBuilder().setModelSpec(ModelSpec.newBuilder().setName(model))
              .build()), null);
    }
    String missing = status == null ? "the model server does not know model '" + model + "'" : unavailability(status);
    if (missing == null) {
      missing = signatureMissing(callDeadline);
    }
    if (missing != null) {
      lastError = missing;
      failureSeenNanos.set(System.nanoTime());
    }
  }

  /**
   * Null when the served version has the configured signature, or the server does not list its
   * signatures; else what is missing. A version AVAILABLE alone cleared a FAILED_PRECONDITION for a
   * signature the model lacks, and the service went ready, was sent queries that all failed, went
   * unready, and so on every few seconds.
   */
  private String signatureMissing(Duration callDeadline) throws ModelUnavailableException {
    GetModelMetadataResponse metadata;
    try (Scope ignored = Untraced.unlessInTrace()) {
      metadata = answered(() -> ModelMetadata.get(channel.get(), model, callDeadline), null);
    }
    com.google.protobuf.Any listed = metadata == null ? null : metadata.getMetadataMap().get("signature_def");
    if (listed == null) {
      return null;
    }
    try {
      SignatureDefMap signatures = listed.unpack(SignatureDefMap.class);
      return signatures.containsSignatureDef(signature) ? null : "model '" + model + "' has no signature '"
          + signature + "' (it has " + String.join(", ", signatures.getSignatureDefMap().keySet()) + ")";
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      return null; // not a list we can read: the next Predict says what is wrong
    }
  }

  /** Null when a version of the model is AVAILABLE; else what the server says of each. */
  private String unavailability(GetModelStatusResponse status) {
    List<String> states = new ArrayList<>();
    for (ModelVersionStatus v : status.getModelVersionStatusList()) {
      if (v.getState() == ModelVersionStatus.State.AVAILABLE) {
        return null;
      }
      String error = v.getStatus().getErrorMessage();
      states.add(v.getVersion() + " " + v.getState() + (error.isEmpty() ? "" : " (" + error + ")"));
    }
    return "no version of model '" + model + "' is AVAILABLE" + (states.isEmpty() ? "" : ": " + String.join(", ", states));
  }

  /**
   * A call about the model rather than with it: the server answering clears a failure remembered
   * from an earlier call, as does NOT_FOUND (the server is up, the model unknown), which gives
   * {@code unknownModel}; any other failure is the server being unavailable.
   */
  <T> T answered(Supplier<T> call, T unknownModel) throws ModelUnavailableException {
    try {
      T answer = call.get();
      lastError = null;
      return answer;
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        lastError = null;
        return unknownModel;
      }
      try {
        throw classify(e);
      } catch (ModelRejectedException rejected) {
        throw new ModelUnavailableException(rejected.getMessage(), e);
      }
    }
  }

  private ModelUnavailableException unavailable(StatusRuntimeException e) {
    lastError = e.getStatus().getCode() + ": " + e.getStatus().getDescription();
    failureSeenNanos.set(System.nanoTime());
    return new ModelUnavailableException("model server " + target + " unavailable: " + lastError, e);
  }

  /**
   * The failure a call ended with: thrown when the server refused the input (which says nothing of
   * its health), else remembered for check() and returned for the caller to throw.
   */
  ModelUnavailableException classify(StatusRuntimeException e) throws ModelRejectedException {
    switch (e.getStatus().getCode()) {
      case INVALID_ARGUMENT, OUT_OF_RANGE ->
          throw new ModelRejectedException("model server refused the input: " + e.getStatus().getDescription(), e);
      default -> {
        // UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, NOT_FOUND of the latest version while
        // a model loads (a pinned version's NOT_FOUND is ModelVersionNotServedException), and
        // FAILED_PRECONDITION: TensorFlow Serving's answer to a signature the model lacks, a
        // deployment's mistake that no input causes. Dead-lettering the input for it would drop
        // every image of a catalog; waiting shows it in check() until the configuration is fixed.
        return unavailable(e);
      }
    }
  }

  /** {@link ModelClient#check()}: cheap, except for a probe at most every {@code probeAfterFailure} after a failure. */
  CheckResult check() {
    ManagedChannel ch = channel.current();
    if (ch == null) {
      return CheckResult.failed("not started");
    }
    ConnectivityState state = ch.getState(false);
    if (state == ConnectivityState.SHUTDOWN) {
      return CheckResult.failed("channel shut down");
    }
    String err = lastError;
    long seen = failureSeenNanos.get();
    if (err != null && System.nanoTime() - seen > probeAfterFailure.toNanos()
        && failureSeenNanos.compareAndSet(seen, System.nanoTime())) {
      // Only a call clears a failure, and a service that is unready because of it (search-api) is
      // sent no calls: without this probe it stayed unready after the model server came back.
      try {
        probe(PROBE_DEADLINE);
      } catch (ModelUnavailableException stillDown) {
        // lastError says why
      }
      err = lastError;
    }
    return err == null ? CheckResult.OK : CheckResult.failed("last call failed: " + err);
  }
}
