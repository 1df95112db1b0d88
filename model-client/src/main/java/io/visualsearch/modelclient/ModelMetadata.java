package io.visualsearch.modelclient;

import io.grpc.ManagedChannel;
import io.visualsearch.proto.tfserving.GetModelMetadataRequest;
import io.visualsearch.proto.tfserving.GetModelMetadataResponse;
import io.visualsearch.proto.tfserving.ModelSpec;
import io.visualsearch.proto.tfserving.PredictionServiceGrpc;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The one GetModelMetadata call, made alike by {@link ModelClient#servedVersion()} (which reads the
 * version it names) and {@link ModelHealth}'s probe (which reads the signatures it lists). Stateless:
 * any thread may call it.
 */
final class ModelMetadata {

  private ModelMetadata() {}

  /**
   * The metadata of the version the server answers requests that name none with, its signatures
   * listed; throws the call's StatusRuntimeException as the stub does.
   */
  static GetModelMetadataResponse get(ManagedChannel channel, String model, Duration deadline) {
    return PredictionServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
        .getModelMetadata(request(model));
  }

  private static GetModelMetadataRequest request(String model) {
    return GetModelMetadataRequest.newBuilder().setModelSpec(ModelSpec.newBuilder().setName(model))
        .addMetadataField("signature_def").build();
  }
}
