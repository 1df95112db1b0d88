package io.visualsearch.runtime;

import io.visualsearch.config.ConfigDef;
import io.visualsearch.config.Setting;
import java.time.Duration;

/** Settings every service process reads. */
public final class RuntimeSettings {

  public static final Setting<String> OPS_HOST = Setting.string("OPS_HOST").defaultValue("127.0.0.1")
      .doc("Address the ops endpoint (/healthz, /readyz, /metrics) binds to; 0.0.0.0 in containers.");
  public static final Setting<Integer> OPS_PORT = Setting.integer("OPS_PORT").defaultValue(0)
      .validate(Setting.port(), "a TCP port (0 picks a free one)")
      .doc("Port of the ops endpoint.");
  public static final Setting<String> INSTANCE_ID = Setting.string("SERVICE_INSTANCE_ID").optional()
      .doc("Instance name in health and traces; defaults to <hostname>-<pid>.");
  public static final Setting<Duration> SHUTDOWN_TIMEOUT = Setting.duration("SERVICE_SHUTDOWN_TIMEOUT")
      .defaultValue(Duration.ofSeconds(20)).validate(d -> d.toMillis() >= 1000, "at least 1s")
      .doc("How long a stop may drain in-flight work: a consumer loop then abandons its batch (not committed, handled"
          + " again after the restart) and components close; 10 s more for closing, then the process exits with 5.");
  public static final Setting<Duration> HTTP_REQUEST_TIMEOUT = Setting.duration("SERVICE_HTTP_REQUEST_TIMEOUT")
      .defaultValue(Duration.ofSeconds(30)).validate(d -> d.isZero() || d.toMillis() >= 1000, "0s (no limit) or at least 1s")
      .doc("How long a request's head and body may take to arrive at the process's JDK HTTP servers (the ops"
          + " port, the model server's REST port, catalog-downloader's sync endpoint); a client slower than that,"
          + " or gone mid-request, is disconnected and its handler thread freed. Whole seconds, rounded up; 0s"
          + " means no limit. Sets the JVM's sun.net.httpserver.maxReqTime unless the JVM was started with it.");

  private RuntimeSettings() {}

  public static ConfigDef definition() {
    return new ConfigDef().define(OPS_HOST, OPS_PORT, INSTANCE_ID, SHUTDOWN_TIMEOUT, HTTP_REQUEST_TIMEOUT);
  }

  public static String defaultInstanceId() {
    String host;
    try {
      host = java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      host = "localhost";
    }
    return host + "-" + ProcessHandle.current().pid();
  }
}
