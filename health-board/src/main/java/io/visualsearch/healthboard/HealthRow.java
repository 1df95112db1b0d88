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
    long[] sparkline,
    /** The shown process's {@code started_at_ms}; 0 when its sender does not say. */
    long startedAtMs,
    /**
     * How long that process has been up: until now while its beats are on time, until its last
     * beat once stale or stopped; -1 when {@code startedAtMs} is unknown.
     */
    long uptimeMs,
    /** Restarts under this instance name within {@code restartWindowMs} (HEALTH_FAILING_WINDOW). */
    int restarts,
    long restartWindowMs) {}
