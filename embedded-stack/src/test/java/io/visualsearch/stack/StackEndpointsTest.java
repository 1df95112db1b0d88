package io.visualsearch.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StackEndpointsTest {

  @Test
  void theServiceEnvironmentNamesEveryPartOnItsOwnPortsTheHealthPagesZipkinIncluded() {
    Map<String, String> env = StackEndpoints.onPorts("127.0.0.1", 19000, 19002, "a-bucket", 19003).serviceEnvironment();
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19000");
    expected.put("S3_ENDPOINT", "http://127.0.0.1:19002");
    expected.put("S3_BUCKET", "a-bucket");
    expected.put("S3_ACCESS_KEY", S3ProxyServer.ACCESS_KEY);
    expected.put("S3_SECRET_KEY", S3ProxyServer.SECRET_KEY);
    expected.put("S3_REGION", "us-east-1");
    expected.put("ZIPKIN_ENDPOINT", "http://127.0.0.1:19003/api/v2/spans");
    // health-board's HEALTH_ZIPKIN_UI: the UI's base URL (default http://127.0.0.1:9411), not this Zipkin's.
    expected.put("HEALTH_ZIPKIN_UI", "http://127.0.0.1:19003");
    assertEquals(expected, env);
    assertEquals(List.copyOf(expected.keySet()), List.copyOf(env.keySet()));
  }
}
