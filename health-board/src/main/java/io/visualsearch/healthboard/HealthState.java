package io.visualsearch.healthboard;

/** What an SRE needs to know about an instance at a glance. */
public enum HealthState {
  /** Heartbeats on time, ready, no recent errors. */
  HEALTHY,
  /** Heartbeats on time, but not ready, with recent errors / dead letters, or restarting over and over. */
  FAILING,
  /** No heartbeat for several intervals: crashed, hung, or cut off from Kafka. */
  STALE,
  /** Its last heartbeat said it was stopping on request: a rollout or a scale-down, not an outage. */
  STOPPED;

  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
