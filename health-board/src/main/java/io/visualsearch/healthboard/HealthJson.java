package io.visualsearch.healthboard;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/** {@code /ops/health.json}: the rows of the page, for scripts and alerting. */
public final class HealthJson {

  private final ObjectMapper json = new ObjectMapper();
  private final ZipkinLinks zipkin;

  public HealthJson(ZipkinLinks zipkin) {
    this.zipkin = zipkin;
  }

  public String render(List<HealthRow> rows, ReaderStatus reader, long nowMs) {
    ObjectNode root = json.createObjectNode();
    root.put("generated_at_ms", nowMs);
    // Read before the rows: with reading false, an empty instances[] means "not heard", not "none".
    ObjectNode status = root.putObject("reader");
    status.put("reading", reader.reading());
    status.put("detail", reader.detail());
    status.put("last_read_ms", reader.lastReadMs());
    ArrayNode out = root.putArray("instances");
    for (HealthRow r : rows) {
      ObjectNode o = out.addObject();
      o.put("service", r.service());
      o.put("instance", r.instance());
      o.put("state", r.state().label());
      o.put("reason", r.reason());
      o.put("activity_total", r.activityTotal());
      o.put("error_total", r.errorTotal());
      o.put("dlq_total", r.dlqTotal());
      o.put("last_activity_ms", r.lastActivityMs());
      o.put("last_heartbeat_ms", r.lastHeartbeatMs());
      o.put("consumer_lag", r.consumerLag());
      o.put("ready", r.ready());
      o.put("started_at_ms", r.startedAtMs());
      o.put("uptime_ms", r.uptimeMs());
      o.put("restarts", r.restarts());
      o.put("restarts_window_ms", r.restartWindowMs());
      ArrayNode spark = o.putArray("activity_per_minute");
      for (long v : r.sparkline()) {
        spark.add(v);
      }
      o.put("traces", zipkin.traces(r.service()));
    }
    try {
      return json.writerWithDefaultPrettyPrinter().writeValueAsString(root);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
