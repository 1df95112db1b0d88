package io.visualsearch.cluster;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a cluster is made of and where it listens: the data directory (broker log, blobs, member
 * logs), every port, the tenants with their API keys and feed sources, and how many instances run
 * the two scaled consumer groups. Fixed when the cluster is created, so a restarted member comes
 * back on the same ports with the same settings — as a pod would.
 */
public record ClusterPlan(
    String host,
    Path dataDir,
    int basePort,
    Map<String, String> apiKeys,
    Map<String, String> feedSources,
    int scaledInstances,
    Duration catalogSyncInterval,
    boolean zipkin,
    Map<String, String> extraEnv) {

  public static final String BUCKET = "visual-search-cluster";

  public ClusterPlan {
    apiKeys = new LinkedHashMap<>(apiKeys);
    feedSources = new LinkedHashMap<>(feedSources);
    extraEnv = new LinkedHashMap<>(extraEnv);
    if (scaledInstances < 1) {
      throw new IllegalArgumentException("scaled instances must be at least 1");
    }
  }

  /** The CATALOG_SOURCES value: {@code tenant=uri,...}. */
  public String catalogSources() {
    StringBuilder b = new StringBuilder();
    feedSources.forEach((t, uri) -> b.append(b.length() == 0 ? "" : ",").append(t).append('=').append(uri));
    return b.toString();
  }

  /** The SEARCH_API_KEYS value: {@code tenant:key,...}. */
  public String searchApiKeys() {
    StringBuilder b = new StringBuilder();
    apiKeys.forEach((t, k) -> b.append(b.length() == 0 ? "" : ",").append(t).append(':').append(k));
    return b.toString();
  }
}
