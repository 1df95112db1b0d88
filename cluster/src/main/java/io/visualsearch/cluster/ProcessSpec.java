package io.visualsearch.cluster;

import java.net.URI;
import java.util.List;
import java.util.Map;

/**
 * How to run one cluster member: a main class on a module's classpath, its environment, and the
 * URL that answers below {@code readyBelowStatus} once it is ready ({@code /readyz} 2xx for
 * services; any non-5xx for s3proxy, which refuses anonymous requests; null when readiness is
 * judged another way, e.g. the broker by an admin call).
 */
public record ProcessSpec(String name, String module, String mainClass, List<String> jvmArgs, List<String> args,
    Map<String, String> env, URI readyUrl, int readyBelowStatus) {

  public ProcessSpec {
    jvmArgs = List.copyOf(jvmArgs);
    args = List.copyOf(args);
    env = Map.copyOf(env);
  }
}
