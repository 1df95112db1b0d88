package io.visualsearch.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.pipeline.Activity;
import org.junit.jupiter.api.Test;

/** Which answers count as the model server's errors on the health page, over gRPC and REST alike. */
class ModelServerHeartbeatTest {

  @Test
  void everyReasonTheServerCausesIsAnErrorUnderBothApisNames() {
    for (ServingException.Reason reason : ServingException.Reason.values()) {
      boolean servers = switch (reason) {
        case INTERNAL, UNKNOWN, UNAVAILABLE, RESOURCE_EXHAUSTED -> true;
        // Only a TensorFlow run answers these: a kernel missing, a file the graph cannot read.
        case UNIMPLEMENTED, PERMISSION_DENIED, UNAUTHENTICATED -> true;
        default -> false;
      };
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

  /** Its producer was built by hand, so an operator's acks=1 passed here while every other service refused it. */
  @Test
  void clientPropertiesThatWouldWeakenItsWritesAreRefusedAsEveryServiceRefusesThem() {
    io.visualsearch.config.Config config = ModelServerHeartbeat.definition().parse(java.util.Map.of(
        "KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092", "KAFKA_CLIENT_PROPERTIES", "acks=1"));
    io.visualsearch.config.ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(
        io.visualsearch.config.ConfigException.class, () -> ModelServerHeartbeat.wireIfConfigured(config,
            new io.visualsearch.runtime.ServiceHost(ModelServerService.NAME), null, "test-1"));
    assertTrue(e.getMessage().contains("acks=1 is refused"), e.getMessage());
  }

  @Test
  void aCallWhoseCallerWentIsNeitherActivityNorAnError() {
    Activity activity = new Activity(new PrometheusRegistry());
    for (String abandoned : new String[] {Status.Code.CANCELLED.name(), Status.Code.DEADLINE_EXCEEDED.name(), "499"}) {
      ModelServerHeartbeat.count(activity, abandoned, false);
    }
    assertEquals(0, activity.handled(), "an overloaded server whose queue expires answered nothing");
    assertEquals(0, activity.errors());
    ModelServerHeartbeat.count(activity, Status.Code.OK.name(), false);
    ModelServerHeartbeat.count(activity, "200", false);
    ModelServerHeartbeat.count(activity, Status.Code.UNAVAILABLE.name(), false);
    assertEquals(2, activity.handled());
    assertEquals(1, activity.errors());
  }

  @Test
  void aModelFaultIsAnErrorWhateverItsCode() {
    Activity activity = new Activity(new PrometheusRegistry());
    ModelServerHeartbeat.count(activity, Status.Code.FAILED_PRECONDITION.name(), true);
    ModelServerHeartbeat.count(activity, "400", true);
    assertEquals(0, activity.handled());
    assertEquals(2, activity.errors());
    ModelServerHeartbeat.count(activity, Status.Code.FAILED_PRECONDITION.name(), false);
    ModelServerHeartbeat.count(activity, "400", false);
    assertEquals(2, activity.handled(), "the caller's own mistake, an unknown signature say");
    assertEquals(2, activity.errors());
  }
}
