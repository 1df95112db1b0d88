package io.visualsearch.healthboard;

/** One service instance as the page shows it, at one moment. */
public record HealthRow(
    String service,
    String instance,
    HealthState state,
    String reason,
    long activityTotal,
    long errorTotal,
    long dlqTotal,
    long lastActivityMs,
    long lastHeartbeatMs,
    long consumerLag,
    boolean ready,
    long[] sparkline) {}
