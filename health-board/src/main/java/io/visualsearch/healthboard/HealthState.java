package io.visualsearch.healthboard;

/** What an SRE needs to know about an instance at a glance. */
public enum HealthState {
  /** Heartbeats on time, ready, no recent errors. */
  HEALTHY,
  /** Heartbeats on time, but not ready or with recent errors / dead letters. */
  FAILING,
  /** No heartbeat for several intervals: stopped, hung, or cut off from Kafka. */
  STALE;

  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
