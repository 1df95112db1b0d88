package io.visualsearch.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The checker the manifest tests rely on rejects what it must. */
class EnvCheckTest {

  private static Map<String, String> valid() {
    Map<String, String> env = new HashMap<>();
    env.put("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092");
    env.put("S3_BUCKET", "visual-search");
    env.put("OPS_HOST", "0.0.0.0");
    env.put("OPS_PORT", "8081");
    return env;
  }

  private static List<String> problems(Map<String, String> env) {
    return EnvCheck.of("test", DeployedService.INDEX_BUILDER, env).problems;
  }

  @Test
  void acceptsACompleteEnvironment() {
    assertEquals(List.of(), problems(valid()));
  }

  @Test
  void rejectsAVariableTheServiceDoesNotDefine() {
    Map<String, String> env = valid();
    env.put("INDEX_BUILDER_BOGUS", "1");
    assertTrue(problems(env).stream().anyMatch(p -> p.contains("INDEX_BUILDER_BOGUS")), problems(env).toString());
    env = valid();
    env.put("MODEL_SERVER_TARGET", "model-server:8500"); // defined by search-api, not index-builder
    assertTrue(problems(env).stream().anyMatch(p -> p.contains("MODEL_SERVER_TARGET")), problems(env).toString());
  }

  @Test
  void rejectsAMissingRequiredSetting() {
    Map<String, String> env = valid();
    env.remove("S3_BUCKET");
    assertTrue(problems(env).stream().anyMatch(p -> p.contains("requires S3_BUCKET")), problems(env).toString());
  }

  @Test
  void rejectsAValueTheServiceWouldRefuse() {
    Map<String, String> env = valid();
    env.put("INDEX_BUILDER_NPROBE", "many");
    assertTrue(problems(env).stream().anyMatch(p -> p.contains("INDEX_BUILDER_NPROBE")), problems(env).toString());
  }

  @Test
  void rejectsLoopbackBindsAndRandomOpsPorts() {
    Map<String, String> env = valid();
    env.remove("OPS_HOST");
    assertTrue(problems(env).stream().anyMatch(p -> p.contains("OPS_HOST")), problems(env).toString());
    env = valid();
    env.remove("OPS_PORT");
    assertTrue(problems(env).stream().anyMatch(p -> p.contains("OPS_PORT is 0")), problems(env).toString());
  }
}
