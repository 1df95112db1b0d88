package io.visualsearch.modelserver;

import io.grpc.stub.StreamObserver;
import io.visualsearch.proto.tfserving.GetModelStatusRequest;
import io.visualsearch.proto.tfserving.GetModelStatusResponse;
import io.visualsearch.proto.tfserving.ModelServiceGrpc;

/** tensorflow.serving.ModelService over gRPC (GetModelStatus). */
final class GrpcModelService extends ModelServiceGrpc.ModelServiceImplBase {

  private final ModelServingService service;

  GrpcModelService(ModelServingService service) {
    this.service = service;
  }

  @Override
  public void getModelStatus(GetModelStatusRequest request, StreamObserver<GetModelStatusResponse> reply) {
    try {
      GetModelStatusResponse response = service.status(request);
      reply.onNext(response);
      reply.onCompleted();
    } catch (RuntimeException e) {
      reply.onError(GrpcStatuses.toStatus(e));
    }
  }
}
