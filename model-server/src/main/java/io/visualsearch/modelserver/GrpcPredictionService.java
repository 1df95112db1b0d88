package io.visualsearch.modelserver;

import io.grpc.stub.StreamObserver;
import io.visualsearch.proto.tfserving.GetModelMetadataRequest;
import io.visualsearch.proto.tfserving.GetModelMetadataResponse;
import io.visualsearch.proto.tfserving.PredictRequest;
import io.visualsearch.proto.tfserving.PredictResponse;
import io.visualsearch.proto.tfserving.PredictionServiceGrpc;
import java.util.Map;

/**
 * tensorflow.serving.PredictionService over gRPC: TensorProto in and out, the rest delegated.
 * Predict replies asynchronously when its batch has run, so no gRPC thread waits on TensorFlow.
 */
final class GrpcPredictionService extends PredictionServiceGrpc.PredictionServiceImplBase {

  private final ModelServingService service;
  private final TensorProtoCodec codec;

  GrpcPredictionService(ModelServingService service, int maxMessageBytes) {
    this.service = service;
    this.codec = new TensorProtoCodec(maxMessageBytes);
  }

  @Override
  public void predict(PredictRequest request, StreamObserver<PredictResponse> reply) {
    try {
      Map<String, HostTensor> inputs = codec.decodeInputs(request.getInputsMap());
      // The call's context is cancelled when its deadline passes or the client cancels.
      io.grpc.Context call = io.grpc.Context.current();
      service.predict(request.getModelSpec(), inputs, request.getOutputFilterList(), call::isCancelled,
              RequestPriority.interactive())
          .whenComplete((p, error) -> {
            if (error != null) {
              reply.onError(GrpcStatuses.toStatus(error));
              return;
            }
            PredictResponse.Builder b = PredictResponse.newBuilder().setModelSpec(p.modelSpec());
            p.outputs().forEach((alias, t) -> b.putOutputs(alias, codec.encode(t)));
            reply.onNext(b.build());
            reply.onCompleted();
          });
    } catch (RuntimeException e) {
      reply.onError(GrpcStatuses.toStatus(e));
    }
  }

  @Override
  public void getModelMetadata(GetModelMetadataRequest request, StreamObserver<GetModelMetadataResponse> reply) {
    try {
      GetModelMetadataResponse response = service.metadata(request);
      reply.onNext(response);
      reply.onCompleted();
    } catch (RuntimeException e) {
      reply.onError(GrpcStatuses.toStatus(e));
    }
  }
}
