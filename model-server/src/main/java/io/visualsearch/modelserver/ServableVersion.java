package io.visualsearch.modelserver;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.exceptions.TFFailedPreconditionException;
import org.tensorflow.exceptions.TFInvalidArgumentException;
import org.tensorflow.exceptions.TFOutOfRangeException;
import org.tensorflow.exceptions.TFPermissionDeniedException;
import org.tensorflow.exceptions.TFResourceExhaustedException;
import org.tensorflow.exceptions.TFUnauthenticatedException;
import org.tensorflow.exceptions.TFUnimplementedException;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.proto.SignatureDef;

/**
 * One loaded version of a model. Reference counted: the manager holds one reference until it
 * {@link #retire}s the version, and every request holds a {@link Lease} from resolution to reply,
 * so the native bundle is closed only after the last in-flight request using it has finished.
 */
final class ServableVersion {

  private final String modelName;
  private final long version;
  private final SavedModelBundle bundle;
  private final Map<String, SignatureSpec> signatures;
  private final Map<String, SignatureDef> signatureDefs;
  private final AtomicInteger references = new AtomicInteger(1);
  private final AtomicBoolean retired = new AtomicBoolean();
  private final CompletableFuture<Void> closed = new CompletableFuture<>();

  /** Takes ownership of {@code bundle}. */
  ServableVersion(String modelName, long version, SavedModelBundle bundle) {
    this.modelName = modelName;
    this.version = version;
    this.bundle = bundle;
    this.signatureDefs = Collections.unmodifiableMap(new LinkedHashMap<>(bundle.metaGraphDef().getSignatureDefMap()));
    Map<String, SignatureSpec> specs = new LinkedHashMap<>();
    signatureDefs.forEach((k, def) -> specs.put(k, new SignatureSpec(k, def)));
    this.signatures = Collections.unmodifiableMap(specs);
  }

  String modelName() {
    return modelName;
  }

  long version() {
    return version;
  }

  Map<String, SignatureDef> signatureDefs() {
    return signatureDefs;
  }

  SignatureSpec signature(String key) {
    SignatureSpec s = signatures.get(key);
    if (s == null) {
      // FAILED_PRECONDITION, as TensorFlow Serving answers: the model is there, this deployment's
      // idea of its signatures is not.
      throw new ServingException(ServingException.Reason.FAILED_PRECONDITION, "signature '" + key
          + "' not found in model '" + modelName + "' version " + version + " (signatures: " + signatures.keySet() + ")");
    }
    return s;
  }

  /** A reference for one request, or null if this version has already been retired and released. */
  Lease tryAcquire() {
    while (true) {
      int n = references.get();
      if (n == 0) {
        return null;
      }
      if (references.compareAndSet(n, n + 1)) {
        return new Lease(this);
      }
    }
  }

  /** Drops the manager's reference; the bundle closes when the last lease is closed. */
  void retire() {
    if (retired.compareAndSet(false, true)) {
      release();
    }
  }

  /** Completes once the native bundle has been closed. */
  CompletableFuture<Void> closedFuture() {
    return closed;
  }

  private void release() {
    if (references.decrementAndGet() == 0) {
      try {
        bundle.close();
      } finally {
        closed.complete(null);
      }
    }
  }

  /**
   * Runs the signature on already validated inputs and copies the requested outputs to the heap.
   * Only callable while the caller holds a lease.
   */
  Map<String, HostTensor> run(SignatureSpec signature, Map<String, HostTensor> inputs, List<String> outputs) {
    List<Tensor> fed = new ArrayList<>(inputs.size());
    try {
      Session.Runner runner = bundle.session().runner();
      for (Map.Entry<String, HostTensor> in : inputs.entrySet()) {
        Tensor t = NativeTensors.toNative(in.getValue());
        fed.add(t);
        runner.feed(signature.input(in.getKey()).getName(), t);
      }
      // Each graph tensor fetched once: two aliases of one tensor (a signature may name it twice)
      // fetched twice make TensorFlow Java fail after the run, leaking the fetched tensors.
      Map<String, Integer> fetchIndex = new LinkedHashMap<>();
      for (String alias : outputs) {
        String tensor = signature.output(alias).getName();
        if (!fetchIndex.containsKey(tensor)) {
          fetchIndex.put(tensor, fetchIndex.size());
          runner.fetch(tensor);
        }
      }
      Map<String, HostTensor> result = new LinkedHashMap<>();
      try (Result r = runner.run()) {
        for (String alias : outputs) {
          result.put(alias, NativeTensors.fromNative(r.get(fetchIndex.get(signature.output(alias).getName()))));
        }
      }
      return result;
    } catch (TensorFlowException | TFInvalidArgumentException | TFUnimplementedException e) {
      // The last two extend IllegalArgumentException and UnsupportedOperationException instead.
      throw runFailure(modelName, version, e);
    } finally {
      fed.forEach(Tensor::close);
    }
  }

  private static final Map<Class<?>, ServingException.Reason> RUN_FAILURES = Map.of(
      TFInvalidArgumentException.class, ServingException.Reason.INVALID_ARGUMENT,
      TFOutOfRangeException.class, ServingException.Reason.OUT_OF_RANGE,
      TFFailedPreconditionException.class, ServingException.Reason.FAILED_PRECONDITION,
      TFResourceExhaustedException.class, ServingException.Reason.RESOURCE_EXHAUSTED,
      TFUnimplementedException.class, ServingException.Reason.UNIMPLEMENTED,
      TFPermissionDeniedException.class, ServingException.Reason.PERMISSION_DENIED,
      TFUnauthenticatedException.class, ServingException.Reason.UNAUTHENTICATED);

  /**
   * A failed run as the caller is told of it: with TensorFlow's own code, since TensorFlow Serving
   * returns the session's status unchanged and clients act on the code (model-client takes
   * INVALID_ARGUMENT and OUT_OF_RANGE as the input refused, and waits out the others).
   */
  static ServingException runFailure(String modelName, long version, RuntimeException e) {
    String where = "model '" + modelName + "' version " + version;
    String why = firstLine(e.getMessage());
    ServingException.Reason reason = RUN_FAILURES.get(e.getClass());
    if (reason == null) {
      // TensorFlow Java has classes for the codes above only; any other (INTERNAL, NOT_FOUND,
      // ABORTED, UNAVAILABLE, DATA_LOSS, ...) arrives as a bare TensorFlowException that does not
      // say which, and UNKNOWN is the code for an error whose code is not known.
      return ServingException.fromRun(ServingException.Reason.UNKNOWN, where + " failed: " + why, e);
    }
    return switch (reason) {
      case INVALID_ARGUMENT, OUT_OF_RANGE -> ServingException.fromRun(reason, where + " rejected the input: " + why, e);
      case RESOURCE_EXHAUSTED -> ServingException.fromRun(reason, where + " ran out of resources: " + why, e);
      default -> ServingException.fromRun(reason, where + " failed: " + why, e);
    };
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  @Override
  public String toString() {
    return modelName + "@" + version;
  }

  /** One request's hold on a version. Closing twice is harmless. */
  static final class Lease implements AutoCloseable {

    private final ServableVersion version;
    private final AtomicBoolean released = new AtomicBoolean();

    private Lease(ServableVersion version) {
      this.version = version;
    }

    ServableVersion version() {
      return version;
    }

    @Override
    public void close() {
      if (released.compareAndSet(false, true)) {
        version.release();
      }
    }
  }
}
