package io.visualsearch.stack;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where a stack's parts answer, and the one environment that points a service at them: what
 * {@link EmbeddedStack#serviceEnvironment()} gives services of a stack in this JVM, and what the
 * multi-process cluster gives its members when the parts run as their own processes
 * ({@link StackProcessMain}). Whoever needs different values for a setting puts them over this
 * map, where it is visible.
 *
 * @param kafkaBootstrapServers the broker, {@code host:port}
 * @param s3Endpoint the S3-compatible server, {@code http://host:port}
 * @param bucket the bucket created in it
 * @param zipkinBaseUrl Zipkin, {@code http://host:port}: spans go to its {@code /api/v2/spans},
 *     the health page's trace links to its UI
 */
public record StackEndpoints(String kafkaBootstrapServers, String s3Endpoint, String bucket, String zipkinBaseUrl) {

  /** The endpoints of parts started on {@code host} with these ports, as the parts themselves name them. */
  public static StackEndpoints onPorts(String host, int kafkaPort, int s3Port, String bucket, int zipkinPort) {
    return new StackEndpoints(EmbeddedKafka.bootstrapServers(host, kafkaPort), S3ProxyServer.endpoint(host, s3Port),
        bucket, ZipkinServer.baseUrl(host, zipkinPort));
  }

  /** Zipkin's span collector: what {@code ZIPKIN_ENDPOINT} names. */
  public String zipkinSpansEndpoint() {
    return ZipkinServer.spansEndpoint(zipkinBaseUrl);
  }

  /**
   * The environment variables that point a service at these endpoints: {@code KAFKA_BOOTSTRAP_SERVERS},
   * {@code S3_*}, {@code ZIPKIN_ENDPOINT} and {@code HEALTH_ZIPKIN_UI}. A new, modifiable map in
   * that order.
   */
  public Map<String, String> serviceEnvironment() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("KAFKA_BOOTSTRAP_SERVERS", kafkaBootstrapServers);
    env.put("S3_ENDPOINT", s3Endpoint);
    env.put("S3_BUCKET", bucket);
    env.put("S3_ACCESS_KEY", S3ProxyServer.ACCESS_KEY);
    env.put("S3_SECRET_KEY", S3ProxyServer.SECRET_KEY);
    env.put("S3_REGION", "us-east-1");
    env.put("ZIPKIN_ENDPOINT", zipkinSpansEndpoint());
    // The health page's trace links: its default is Zipkin's usual port, not necessarily this one.
    env.put("HEALTH_ZIPKIN_UI", zipkinBaseUrl);
    return env;
  }
}
