package io.visualsearch.modelserver;

import com.google.protobuf.Any;
import com.google.protobuf.Int64Value;
import io.visualsearch.proto.tfserving.GetModelMetadataRequest;
import io.visualsearch.proto.tfserving.GetModelMetadataResponse;
import io.visualsearch.proto.tfserving.GetModelStatusRequest;
import io.visualsearch.proto.tfserving.GetModelStatusResponse;
import io.visualsearch.proto.tfserving.ModelSpec;
import io.visualsearch.proto.tfserving.ModelVersionStatus;
import io.visualsearch.proto.tfserving.SignatureDefMap;
import io.visualsearch.proto.tfserving.StatusProto;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.error.Code;

/**
 * The model server's logic behind both front ends (gRPC and REST): resolve model, version and
 * signature, validate inputs, hand the request to the batcher, and describe models. Front ends
 * only translate wire formats and map {@link ServingException} reasons to their status codes.
 */
public final class ModelServingService {

  /** Name TensorFlow uses for a signature when none is requested. */
  public static final String DEFAULT_SIGNATURE = "serving_default";
  static final String SIGNATURE_DEF_FIELD = "signature_def";

  /** Outputs of one Predict, and the model/version/signature that produced them. */
  public record Prediction(ModelSpec modelSpec, Map<String, HostTensor> outputs) {}

  private final ModelManager models;
  private final DynamicBatcher batcher;
  private final boolean batching;

  ModelServingService(ModelManager models, DynamicBatcher batcher, int maxBatchSize) {
    this.models = models;
    this.batcher = batcher;
    this.batching = maxBatchSize > 1;
  }

  /**
   * Runs a prediction. Validation errors throw at once; execution errors complete the future
   * exceptionally. Either way the failure is a {@link ServingException} for the caller.
   */
  public CompletableFuture<Prediction> predict(ModelSpec spec, Map<String, HostTensor> inputs, List<String> outputFilter) {
    return predict(spec, inputs, outputFilter, () -> false);
  }

  /**
   * The same for a caller that can go away ({@code callerGone} turns true): if it has by the time
   * the request's batch is formed, the request is not run and fails with {@code CANCELLED}.
   */
  public CompletableFuture<Prediction> predict(ModelSpec spec, Map<String, HostTensor> inputs, List<String> outputFilter,
      BooleanSupplier callerGone) {
    return predict(spec, inputs, outputFilter, callerGone, false);
  }

  /** The same, run before catalog work when {@code interactive} (a shopper waits on it). */
  public CompletableFuture<Prediction> predict(ModelSpec spec, Map<String, HostTensor> inputs, List<String> outputFilter,
      BooleanSupplier callerGone, boolean interactive) {
    return run(models.acquire(spec.getName(), requestedVersion(spec)), spec, inputs, outputFilter, callerGone,
        interactive);
  }

  /**
   * Decodes a request's inputs for the version it runs on, and runs them on that same version: a
   * front end that needs the signature's input dtypes to decode (REST's JSON) would otherwise decode
   * for one version and run on another swapped in meanwhile, whose inputs may differ.
   */
  public CompletableFuture<Prediction> predict(ModelSpec spec, Function<SignatureDef, Map<String, HostTensor>> decode,
      List<String> outputFilter) {
    ServableVersion.Lease lease = models.acquire(spec.getName(), requestedVersion(spec));
    Map<String, HostTensor> inputs;
    try {
      String key = signatureName(spec);
      lease.version().signature(key);
      inputs = decode.apply(lease.version().signatureDefs().get(key));
    } catch (RuntimeException e) {
      lease.close();
      throw e;
    }
    return run(lease, spec, inputs, outputFilter, () -> false, false);
  }

  /** Runs on the leased version; the lease is closed when the run ends, or at once if it cannot start. */
  private CompletableFuture<Prediction> run(ServableVersion.Lease lease, ModelSpec spec, Map<String, HostTensor> inputs,
      List<String> outputFilter, BooleanSupplier callerGone, boolean interactive) {
    try {
      ServableVersion version = lease.version();
      SignatureSpec signature = version.signature(signatureName(spec));
      List<String> outputs = signature.validate(inputs, outputFilter);
      boolean mergeable = batching && signature.batchable();
      List<BatchKey.InputLayout> layouts = new ArrayList<>();
      long rows = 1;
      for (Map.Entry<String, HostTensor> e : inputs.entrySet()) {
        HostTensor t = e.getValue();
        List<Long> rowShape = t.rank() == 0 ? List.of() : java.util.Arrays.stream(t.rowShape()).boxed().toList();
        layouts.add(new BatchKey.InputLayout(e.getKey(), t.dtype(), rowShape));
        if (signature.batchable()) {
          rows = t.dim(0);
        }
      }
      layouts.sort(java.util.Comparator.comparing(BatchKey.InputLayout::alias));
      BatchKey key = new BatchKey(version, signature, List.copyOf(outputs), List.copyOf(layouts), mergeable,
          interactive);
      ModelSpec served = effectiveSpec(version, signature.key());
      return batcher.submit(key, inputs, rows, callerGone)
          .whenComplete((r, e) -> lease.close())
          .thenApply(out -> new Prediction(served, out));
    } catch (RuntimeException e) {
      lease.close();
      throw e;
    }
  }

  public GetModelMetadataResponse metadata(GetModelMetadataRequest request) {
    if (request.getMetadataFieldCount() == 0) {
      throw ServingException.invalid("GetModelMetadataRequest must name at least one metadata_field (supported: "
          + SIGNATURE_DEF_FIELD + ")");
    }
    for (String field : request.getMetadataFieldList()) {
      if (!SIGNATURE_DEF_FIELD.equals(field)) {
        throw ServingException.invalid("metadata field '" + field + "' is not supported (supported: "
            + SIGNATURE_DEF_FIELD + ")");
      }
    }
    ModelSpec spec = request.getModelSpec();
    try (ServableVersion.Lease lease = models.acquire(spec.getName(), requestedVersion(spec))) {
      ServableVersion v = lease.version();
      SignatureDefMap map = SignatureDefMap.newBuilder().putAllSignatureDef(v.signatureDefs()).build();
      return GetModelMetadataResponse.newBuilder()
          .setModelSpec(ModelSpec.newBuilder().setName(v.modelName()).setVersion(Int64Value.of(v.version())))
          .putMetadata(SIGNATURE_DEF_FIELD, Any.pack(map))
          .build();
    }
  }

  public GetModelStatusResponse status(GetModelStatusRequest request) {
    ModelSpec spec = request.getModelSpec();
    models.checkName(spec.getName());
    // Only a version narrows the list, as in TensorFlow Serving: a label is not looked up here,
    // so asking the status "of" a label lists every version rather than failing.
    OptionalLong wanted = spec.hasVersion() ? OptionalLong.of(spec.getVersion().getValue()) : OptionalLong.empty();
    GetModelStatusResponse.Builder b = GetModelStatusResponse.newBuilder();
    for (VersionStatusBook.Entry e : models.statuses()) {
      if (wanted.isEmpty() || wanted.getAsLong() == e.version()) {
        b.addModelVersionStatus(toProto(e));
      }
    }
    if (b.getModelVersionStatusCount() == 0) {
      throw ServingException.notFound(wanted.isPresent()
          ? "version " + wanted.getAsLong() + " of model '" + spec.getName() + "' is unknown to this server"
          : "model '" + spec.getName() + "' has no versions yet");
    }
    return b.build();
  }

  private static ModelVersionStatus toProto(VersionStatusBook.Entry e) {
    ModelVersionStatus.State state = switch (e.state()) {
      case LOADING -> ModelVersionStatus.State.LOADING;
      case AVAILABLE -> ModelVersionStatus.State.AVAILABLE;
      case UNLOADING -> ModelVersionStatus.State.UNLOADING;
      case END -> ModelVersionStatus.State.END;
    };
    StatusProto status = e.error().isEmpty()
        ? StatusProto.newBuilder().setErrorCode(Code.OK).build()
        : StatusProto.newBuilder().setErrorCode(Code.UNKNOWN).setErrorMessage(e.error()).build();
    return ModelVersionStatus.newBuilder().setVersion(e.version()).setState(state).setStatus(status).build();
  }

  private static ModelSpec effectiveSpec(ServableVersion v, String signature) {
    return ModelSpec.newBuilder().setName(v.modelName()).setVersion(Int64Value.of(v.version()))
        .setSignatureName(signature).build();
  }

  static String signatureName(ModelSpec spec) {
    return spec.getSignatureName().isEmpty() ? DEFAULT_SIGNATURE : spec.getSignatureName();
  }

  static OptionalLong requestedVersion(ModelSpec spec) {
    return switch (spec.getVersionChoiceCase()) {
      case VERSION -> OptionalLong.of(spec.getVersion().getValue());
      case VERSION_LABEL -> throw ServingException.invalid("version label '" + spec.getVersionLabel()
          + "' is not defined for model '" + spec.getName() + "' (this server assigns no labels; ask by version)");
      case VERSIONCHOICE_NOT_SET -> OptionalLong.empty();
    };
  }
}
