package io.visualsearch.healthboard;

import io.visualsearch.config.ConfigDef;
import io.visualsearch.config.Setting;
import java.time.Duration;

/** Settings of the health page, read by the service that serves it. */
public final class HealthSettings {

  public static final Setting<Integer> STALE_AFTER = Setting.integer("HEALTH_STALE_AFTER_INTERVALS").defaultValue(3)
      .validate(n -> n >= 2, "at least 2 (one late heartbeat is not an outage)")
      .doc("On the health page, an instance whose last heartbeat is older than this many of its own heartbeat intervals is stale.");
  public static final Setting<Duration> FAILING_WINDOW = Setting.duration("HEALTH_FAILING_WINDOW")
      .defaultValue(Duration.ofMinutes(5))
      // The board keeps an hour of per-minute counts: a longer window would count an hour and say more.
      .validate(d -> d.toMillis() >= 1000 && d.compareTo(Duration.ofHours(1)) <= 0, "between 1s and 1h")
      .doc("On the health page, an instance with new errors or dead-lettered records within this window is failing.");
  public static final Setting<String> ZIPKIN_UI = Setting.string("HEALTH_ZIPKIN_UI").defaultValue("http://127.0.0.1:9411")
      .doc("Base URL of the Zipkin UI that the health page's rows link to.");

  private HealthSettings() {}

  public static ConfigDef definition() {
    return new ConfigDef().define(STALE_AFTER, FAILING_WINDOW, ZIPKIN_UI);
  }
}
