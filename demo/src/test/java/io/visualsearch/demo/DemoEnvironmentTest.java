package io.visualsearch.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DemoEnvironmentTest {

  private static final Map<String, String> STACK = Map.of("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:40001",
      "HEALTH_ZIPKIN_UI", "http://127.0.0.1:40002");

  @Test
  void theStacksEndpointsWinButATraceLinkTheUserGivesIsKept() {
    Map<String, String> user = Map.of("KAFKA_BOOTSTRAP_SERVERS", "elsewhere:9092",
        "HEALTH_ZIPKIN_UI", "http://devbox:9411");
    Map<String, String> env = new DemoEnvironment(user, Path.of("data")).services(STACK, "demo=file:feed.tsv", "demo",
        "0123456789abcdef");
    assertEquals("127.0.0.1:40001", env.get("KAFKA_BOOTSTRAP_SERVERS"), "the services run on the demo's own stack");
    assertEquals("http://devbox:9411", env.get("HEALTH_ZIPKIN_UI"), "a link for the user's browser is the user's");
  }

  @Test
  void withoutOneTheTraceLinksPointAtTheStacksZipkin() {
    Map<String, String> env = new DemoEnvironment(Map.of(), Path.of("data")).services(STACK, "demo=file:feed.tsv",
        "demo", "0123456789abcdef");
    assertEquals("http://127.0.0.1:40002", env.get("HEALTH_ZIPKIN_UI"));
  }
}
