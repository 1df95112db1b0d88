package io.visualsearch.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.config.ConfigException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModelServerSettingsTest {

  @Test
  void defaultsAreTensorFlowServingsAndEnvOverridesThem() {
    ModelServerSettings d = ModelServerSettings.defaults(Path.of("/models"));
    assertEquals("default", d.modelName());
    assertEquals(8500, d.grpcPort());
    assertEquals(8501, d.restPort());
    assertEquals("127.0.0.1", d.bindAddress());
    assertEquals(VersionPolicy.latest(), d.versionPolicy());

    ModelServerSettings s = ModelServerSettings.from(ModelServerSettings.definition().parse(Map.of(
        "MODEL_SERVER_BASE_PATH", "/m", "MODEL_SERVER_MODEL_NAME", "clip", "MODEL_SERVER_GRPC_PORT", "9500",
        "MODEL_SERVER_MAX_BATCH_SIZE", "8", "MODEL_SERVER_BATCH_TIMEOUT", "5ms", "MODEL_SERVER_MODEL_VERSION", "3",
        "MODEL_SERVER_POLL_INTERVAL", "30s")));
    assertEquals(Path.of("/m"), s.basePath());
    assertEquals("clip", s.modelName());
    assertEquals(9500, s.grpcPort());
    assertEquals(8, s.maxBatchSize());
    assertEquals(Duration.ofMillis(5), s.batchTimeout());
    assertEquals(VersionPolicy.pinned(3), s.versionPolicy());
    assertEquals(Duration.ofSeconds(30), s.pollInterval());
  }

  @Test
  void aDefaultVersionServesOthersBesideItAndExcludesAPin() {
    Map<String, String> env = new java.util.HashMap<>(Map.of("MODEL_SERVER_BASE_PATH", "/m",
        "MODEL_SERVER_DEFAULT_VERSION", "1"));
    assertEquals(VersionPolicy.byDefault(1),
        ModelServerSettings.from(ModelServerSettings.definition().parse(env)).versionPolicy());
    env.put("MODEL_SERVER_MODEL_VERSION", "2");
    ConfigException e = assertThrows(ConfigException.class,
        () -> ModelServerSettings.from(ModelServerSettings.definition().parse(env)));
    assertTrue(e.getMessage().contains("MODEL_SERVER_DEFAULT_VERSION"), e.getMessage());
  }

  @Test
  void tensorFlowThreadPoolsAreLeftToTensorFlowUnlessSet() {
    ModelServerSettings d = ModelServerSettings.defaults(Path.of("/models"));
    assertEquals(0, d.sessionConfig().getIntraOpParallelismThreads());
    assertEquals(0, d.sessionConfig().getInterOpParallelismThreads());

    ModelServerSettings s = ModelServerSettings.from(ModelServerSettings.definition().parse(Map.of(
        "MODEL_SERVER_BASE_PATH", "/m", "MODEL_SERVER_INTRA_OP_THREADS", "1", "MODEL_SERVER_INTER_OP_THREADS", "2")));
    assertEquals(1, s.sessionConfig().getIntraOpParallelismThreads());
    assertEquals(2, s.sessionConfig().getInterOpParallelismThreads());

    ConfigException e = assertThrows(ConfigException.class, () -> ModelServerSettings.definition().parse(Map.of(
        "MODEL_SERVER_BASE_PATH", "/m", "MODEL_SERVER_INTRA_OP_THREADS", "-1")));
    assertTrue(e.getMessage().contains("MODEL_SERVER_INTRA_OP_THREADS"), e.getMessage());
  }

  @Test
  void embeddersAdjustTheDefaultsThroughTheSameValidation() {
    ModelServerSettings s = ModelServerSettings.from(ModelServerSettings.defaultConfig(Path.of("/m"))
        .with(ModelServerSettings.GRPC_PORT, 0).with(ModelServerSettings.REST_PORT, -1)
        .with(ModelServerSettings.MAX_BATCH_SIZE, 4));
    assertEquals(0, s.grpcPort());
    assertEquals(-1, s.restPort());
    assertEquals(4, s.maxBatchSize());
    assertEquals(Duration.ofMillis(2), s.batchTimeout(), "the rest stays at its default");
    assertThrows(IllegalArgumentException.class,
        () -> ModelServerSettings.defaultConfig(Path.of("/m")).with(ModelServerSettings.MAX_BATCH_SIZE, 0));
    assertThrows(IllegalArgumentException.class,
        () -> ModelServerSettings.defaultConfig(Path.of("/m")).with(ModelServerSettings.POLL_INTERVAL, Duration.ofMillis(1)));
  }

  @Test
  void theBodyBudgetDefaultsToAQuarterOfTheHeapAndIsAtLeastOneMebibyte() {
    assertEquals(Runtime.getRuntime().maxMemory() / 4, ModelServerSettings.defaults(Path.of("/m")).restBodyBudgetBytes());
    assertEquals(8L << 20, ModelServerSettings.from(ModelServerSettings.definition().parse(Map.of(
        "MODEL_SERVER_BASE_PATH", "/m", "MODEL_SERVER_REST_BODY_BUDGET_BYTES", "8388608"))).restBodyBudgetBytes());
    ConfigException e = assertThrows(ConfigException.class, () -> ModelServerSettings.definition().parse(Map.of(
        "MODEL_SERVER_BASE_PATH", "/m", "MODEL_SERVER_REST_BODY_BUDGET_BYTES", "1000")));
    assertTrue(e.getMessage().contains("MODEL_SERVER_REST_BODY_BUDGET_BYTES"), e.getMessage());
  }

  @Test
  void badValuesAreAllReportedByName() {
    ConfigException e = assertThrows(ConfigException.class, () -> ModelServerSettings.definition().parse(Map.of(
        "MODEL_SERVER_GRPC_PORT", "99999", "MODEL_SERVER_MAX_BATCH_SIZE", "0", "MODEL_SERVER_MODEL_NAME", "../x")));
    assertEquals(4, e.problems().size(), e.getMessage());
    assertTrue(e.getMessage().contains("MODEL_SERVER_BASE_PATH is required"), e.getMessage());
    assertTrue(e.getMessage().contains("MODEL_SERVER_MODEL_NAME"), e.getMessage());
  }
}
