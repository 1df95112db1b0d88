package io.visualsearch.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.exceptions.TFFailedPreconditionException;
import org.tensorflow.exceptions.TFInvalidArgumentException;
import org.tensorflow.exceptions.TFOutOfRangeException;
import org.tensorflow.exceptions.TFPermissionDeniedException;
import org.tensorflow.exceptions.TFResourceExhaustedException;
import org.tensorflow.exceptions.TFUnauthenticatedException;
import org.tensorflow.exceptions.TFUnimplementedException;
import org.tensorflow.exceptions.TensorFlowException;

/** A failed TensorFlow run reaches the caller with TensorFlow's code, as TensorFlow Serving passes it on. */
class RunFailureCodesTest {

  @Test
  void eachTensorFlowExceptionKeepsItsCodeOverGrpcAndRest() {
    Map<RuntimeException, Status.Code> expected = new LinkedHashMap<>();
    expected.put(new TFInvalidArgumentException("bad"), Status.Code.INVALID_ARGUMENT);
    expected.put(new TFOutOfRangeException("bad"), Status.Code.OUT_OF_RANGE);
    expected.put(new TFFailedPreconditionException("bad"), Status.Code.FAILED_PRECONDITION);
    expected.put(new TFResourceExhaustedException("bad"), Status.Code.RESOURCE_EXHAUSTED);
    expected.put(new TFUnimplementedException("bad"), Status.Code.UNIMPLEMENTED);
    expected.put(new TFPermissionDeniedException("bad"), Status.Code.PERMISSION_DENIED);
    expected.put(new TFUnauthenticatedException("bad"), Status.Code.UNAUTHENTICATED);
    // TensorFlow Java throws the bare class for every other code, without saying which.
    expected.put(new TensorFlowException("bad"), Status.Code.UNKNOWN);
    // TF Serving's REST server's status for each gRPC code.
    Map<Status.Code, Integer> http = Map.of(Status.Code.INVALID_ARGUMENT, 400, Status.Code.OUT_OF_RANGE, 400,
        Status.Code.FAILED_PRECONDITION, 400, Status.Code.RESOURCE_EXHAUSTED, 429, Status.Code.UNIMPLEMENTED, 501,
        Status.Code.PERMISSION_DENIED, 403, Status.Code.UNAUTHENTICATED, 401, Status.Code.UNKNOWN, 500);

    Map<String, String> want = new LinkedHashMap<>();
    Map<String, String> got = new LinkedHashMap<>();
    expected.forEach((tf, code) -> {
      ServingException e = ServableVersion.runFailure("default", 3, tf);
      String what = tf.getClass().getSimpleName();
      want.put(what, code + " " + http.get(code));
      got.put(what, GrpcStatuses.toStatus(e).getStatus().getCode() + " " + e.reason().httpStatus());
    });
    assertEquals(want, got);
    expected.keySet().forEach(tf -> assertSame(tf, ServableVersion.runFailure("default", 3, tf).getCause()));
  }

  /**
   * A model whose every run failed FAILED_PRECONDITION (a table it could not initialise) left
   * nothing in the log: only INTERNAL and UNKNOWN were, and a run's own code is kept now.
   */
  @Test
  void aRunsFailureIsTheModelsFaultUnlessTheInputCausedIt() {
    assertTrue(ServableVersion.runFailure("default", 3, new TFFailedPreconditionException("table")).isModelFault());
    assertTrue(ServableVersion.runFailure("default", 3, new TFUnimplementedException("kernel")).isModelFault());
    assertTrue(ServableVersion.runFailure("default", 3, new TensorFlowException("lost")).isModelFault());
    assertFalse(ServableVersion.runFailure("default", 3, new TFInvalidArgumentException("shape")).isModelFault());
    assertFalse(ServableVersion.runFailure("default", 3, new TFOutOfRangeException("index")).isModelFault());
    assertFalse(new ServingException(ServingException.Reason.FAILED_PRECONDITION, "no such signature").isModelFault(),
        "a caller's unknown signature is not the model's fault");
    // The same code over gRPC either way: only the status the call metrics see still tells them apart.
    assertTrue(GrpcStatuses.isModelFault(GrpcStatuses.toStatus(
        ServableVersion.runFailure("default", 3, new TFFailedPreconditionException("table"))).getStatus()));
    assertFalse(GrpcStatuses.isModelFault(GrpcStatuses.toStatus(
        new ServingException(ServingException.Reason.FAILED_PRECONDITION, "no such signature")).getStatus()));
    assertFalse(GrpcStatuses.isModelFault(GrpcStatuses.toStatus(
        ServableVersion.runFailure("default", 3, new TFInvalidArgumentException("shape"))).getStatus()));
  }

  @Test
  void theMessageNamesTheVersionAndKeepsTensorFlowsFirstLine() {
    ServingException e = ServableVersion.runFailure("default", 3,
        new TFInvalidArgumentException("Matrix size-incompatible: In[0]: [1,3]\n\t [[{{node MatMul}}]]"));
    assertEquals("model 'default' version 3 rejected the input: Matrix size-incompatible: In[0]: [1,3]",
        e.getMessage());
    assertEquals("model 'default' version 3 failed: lost", ServableVersion.runFailure("default", 3,
        new TFUnimplementedException("lost")).getMessage());
  }
}
