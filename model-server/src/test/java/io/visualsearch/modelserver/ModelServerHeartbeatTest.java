package io.visualsearch.modelserver;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import org.junit.jupiter.api.Test;

/** Which answers count as the model server's errors on the health page, over gRPC and REST alike. */
class ModelServerHeartbeatTest {

  @Test
  void everyReasonTheServerCausesIsAnErrorUnderBothApisNames() {
    for (ServingException.Reason reason : ServingException.Reason.values()) {
      boolean servers = reason == ServingException.Reason.INTERNAL || reason == ServingException.Reason.UNAVAILABLE
          || reason == ServingException.Reason.RESOURCE_EXHAUSTED;
      String grpc = GrpcStatuses.toStatus(new ServingException(reason, "x")).getStatus().getCode().name();
      String rest = Integer.toString(reason.httpStatus());
      if (servers) {
        assertTrue(ModelServerHeartbeat.isServerFault(grpc), reason + " over gRPC (" + grpc + ")");
        assertTrue(ModelServerHeartbeat.isServerFault(rest), reason + " over REST (" + rest + ")");
      } else {
        assertFalse(ModelServerHeartbeat.isServerFault(grpc), reason + " is the caller's, over gRPC (" + grpc + ")");
        assertFalse(ModelServerHeartbeat.isServerFault(rest), reason + " is the caller's, over REST (" + rest + ")");
      }
    }
    assertFalse(ModelServerHeartbeat.isServerFault(Status.Code.DEADLINE_EXCEEDED.name()), "the caller stopped waiting");
    assertFalse(ModelServerHeartbeat.isServerFault(Status.Code.OK.name()));
  }
}
