package io.visualsearch.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Int64Value;
import io.visualsearch.proto.tfserving.GetModelStatusResponse;
import io.visualsearch.proto.tfserving.ModelServiceGrpc;
import io.visualsearch.proto.tfserving.ModelSpec;
import io.visualsearch.proto.tfserving.ModelVersionStatus;
import io.visualsearch.proto.tfserving.PredictRequest;
import io.visualsearch.proto.tfserving.PredictionServiceGrpc;
import io.visualsearch.proto.tfserving.SignatureDefMap;
import io.visualsearch.proto.tfserving.StatusProto;
import java.io.ByteArrayOutputStream;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.proto.error.Code;

/**
 * The generated TF Serving classes link to TensorFlow Java's own message classes and descriptors
 * (through the import-only protos), and their wire format is TensorFlow Serving's.
 */
class TfServingProtoLinkTest {

  @Test
  void predictRequestCarriesTensorFlowsOwnTensorProtoThroughBytes() throws Exception {
    TensorProto image = TensorProto.newBuilder().setDtype(DataType.DT_UINT8)
        .setTensorShape(TensorShapeProto.newBuilder().addDim(dim(1)).addDim(dim(2)).addDim(dim(2)).addDim(dim(3)))
        .setTensorContent(ByteString.copyFrom(new byte[12])).build();
    PredictRequest request = PredictRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("default").setVersion(Int64Value.of(3)).setSignatureName("s"))
        .putInputs("image", image).addOutputFilter("embedding").build();

    PredictRequest parsed = PredictRequest.parseFrom(request.toByteArray());

    assertEquals(request, parsed);
    assertEquals(image, parsed.getInputsOrThrow("image"));
    // The map value type is TensorFlow's descriptor object itself, not a look-alike.
    assertSame(TensorProto.getDescriptor(),
        PredictRequest.getDescriptor().findFieldByName("inputs").getMessageType().findFieldByName("value").getMessageType());
    assertSame(SignatureDef.getDescriptor(),
        SignatureDefMap.getDescriptor().findFieldByName("signature_def").getMessageType().findFieldByName("value")
            .getMessageType());
    assertSame(Code.getDescriptor(), StatusProto.getDescriptor().findFieldByName("error_code").getEnumType());
  }

  @Test
  void fieldNumbersAreTensorFlowServings() throws Exception {
    // ModelSpec as TF Serving encodes it: name=1, version=2 (Int64Value), signature_name=3.
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(buf);
    out.writeString(1, "default");
    out.writeMessage(2, Int64Value.of(7));
    out.writeString(3, "serving_default");
    out.flush();
    ModelSpec spec = ModelSpec.parseFrom(buf.toByteArray());
    assertEquals("default", spec.getName());
    assertEquals(7, spec.getVersion().getValue());
    assertEquals("serving_default", spec.getSignatureName());
    assertEquals(4, ModelSpec.getDescriptor().findFieldByName("version_label").getNumber());

    assertEquals(2, PredictRequest.getDescriptor().findFieldByName("inputs").getNumber());
    assertEquals(3, PredictRequest.getDescriptor().findFieldByName("output_filter").getNumber());
    assertEquals(1, io.visualsearch.proto.tfserving.PredictResponse.getDescriptor().findFieldByName("outputs").getNumber());
    assertEquals(2, io.visualsearch.proto.tfserving.PredictResponse.getDescriptor().findFieldByName("model_spec").getNumber());
    assertEquals(30, ModelVersionStatus.State.AVAILABLE.getNumber());
    assertEquals("model_version_status",
        GetModelStatusResponse.getDescriptor().findFieldByName("model_version_status").getJsonName());
  }

  @Test
  void grpcMethodPathsAreTensorFlowServings() {
    assertEquals("tensorflow.serving.PredictionService/Predict",
        PredictionServiceGrpc.getPredictMethod().getFullMethodName());
    assertEquals("tensorflow.serving.PredictionService/GetModelMetadata",
        PredictionServiceGrpc.getGetModelMetadataMethod().getFullMethodName());
    assertEquals("tensorflow.serving.ModelService/GetModelStatus",
        ModelServiceGrpc.getGetModelStatusMethod().getFullMethodName());
  }

  @Test
  void signatureDefMapPacksIntoAnyUnderTfServingsTypeName() throws Exception {
    SignatureDef def = SignatureDef.newBuilder().setMethodName("tensorflow/serving/predict")
        .putInputs("image", TensorInfo.newBuilder().setName("image:0").setDtype(DataType.DT_UINT8).build()).build();
    Any any = Any.pack(SignatureDefMap.newBuilder().putSignatureDef("serving_default", def).build());
    assertEquals("type.googleapis.com/tensorflow.serving.SignatureDefMap", any.getTypeUrl());
    assertEquals(def, any.unpack(SignatureDefMap.class).getSignatureDefOrThrow("serving_default"));
  }

  private static TensorShapeProto.Dim dim(long size) {
    return TensorShapeProto.Dim.newBuilder().setSize(size).build();
  }
}
