package io.visualsearch.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.visualsearch.stack.S3ProxyServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a cluster member is told about the stack: the embedded stack's list, on the cluster's ports. */
class ClusterEnvironmentTest {

  /** A repository whose modules look built (classes and recorded classpath): enough to plan a cluster. */
  private static RepoLayout builtRepo(Path root) throws Exception {
    for (String module : Cluster.SERVICES) {
      built(root, module);
    }
    built(root, "cluster");
    return new RepoLayout(root);
  }

  private static void built(Path root, String module) throws Exception {
    Files.createDirectories(root.resolve(module).resolve("target/classes"));
    Files.writeString(root.resolve(module).resolve("target/runtime-classpath.txt"), "");
  }

  private static ClusterPlan plan(Path data, boolean zipkin, Map<String, String> extraEnv) {
    return new ClusterPlan("127.0.0.1", data, 19000, Map.of("a", "key-a"), Map.of("a", "file:///feeds/a.csv"), 2,
        Duration.ofSeconds(30), zipkin, extraEnv);
  }

  @Test
  void everyServiceGetsTheStackEnvironmentWithTheHealthPagesZipkinOnTheClustersPort(@TempDir Path root)
      throws Exception {
    Cluster cluster = new Cluster(builtRepo(root), plan(root.resolve("data"), true, Map.of()));
    // Ports from 19000: kafka, controller, s3, zipkin (19003), ...
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19000");
    expected.put("S3_ENDPOINT", "http://127.0.0.1:19002");
    expected.put("S3_BUCKET", ClusterPlan.BUCKET);
    expected.put("S3_ACCESS_KEY", S3ProxyServer.ACCESS_KEY);
    expected.put("S3_SECRET_KEY", S3ProxyServer.SECRET_KEY);
    expected.put("S3_REGION", "us-east-1");
    expected.put("ZIPKIN_ENDPOINT", "http://127.0.0.1:19003/api/v2/spans");
    // Not health-board's default http://127.0.0.1:9411: a demo's Zipkin, or nothing.
    expected.put("HEALTH_ZIPKIN_UI", "http://127.0.0.1:19003");
    for (ManagedProcess m : cluster.serviceMembers()) {
      Map<String, String> env = m.spec().env();
      expected.forEach((key, value) -> assertEquals(value, env.get(key), m.name() + " " + key));
    }
    assertEquals("http://127.0.0.1:19003", cluster.member("search-api-1").spec().env().get("HEALTH_ZIPKIN_UI"));
  }

  @Test
  void withoutZipkinNoSpansAreSentAndTheTraceLinksStillNameTheClustersOwnPort(@TempDir Path root) throws Exception {
    Cluster cluster = new Cluster(builtRepo(root), plan(root.resolve("data"), false, Map.of()));
    Map<String, String> env = cluster.member("search-api-1").spec().env();
    assertEquals("none", env.get("ZIPKIN_ENDPOINT"));
    assertEquals("http://127.0.0.1:19003", env.get("HEALTH_ZIPKIN_UI"));
  }

  @Test
  void thePlansExtraSettingsGoOverTheStacks(@TempDir Path root) throws Exception {
    Cluster cluster = new Cluster(builtRepo(root), plan(root.resolve("data"), true,
        Map.of("HEALTH_ZIPKIN_UI", "http://devbox:9411")));
    assertEquals("http://devbox:9411", cluster.member("search-api-1").spec().env().get("HEALTH_ZIPKIN_UI"));
  }
}
