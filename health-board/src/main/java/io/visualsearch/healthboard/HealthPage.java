package io.visualsearch.healthboard;

import com.google.common.html.HtmlEscapers;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

/**
 * {@code /ops/health}: the indexers' health table, rendered on the server (no script needed to
 * read it) and refreshed by the browser every few seconds.
 */
public final class HealthPage {

  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);
  private static final int SPARK_W = 120;
  private static final int SPARK_H = 24;
  /** Shown for instances without a consumer loop (search-api, model-server): they have no lag. */
  static final String NO_LAG = "n/a";

  private final ZipkinLinks zipkin;

  public HealthPage(ZipkinLinks zipkin) {
    this.zipkin = zipkin;
  }

  public String render(List<HealthRow> rows, ReaderStatus reader, long nowMs) {
    StringBuilder h = new StringBuilder(4096);
    h.append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<meta http-equiv=\"refresh\" content=\"5\"><title>Indexers' health</title><style>")
        .append("body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse}")
        .append("th,td{padding:.35em .8em;border-bottom:1px solid #ddd;text-align:left}td.n{text-align:right}")
        .append(".healthy{background:#e3f6e3}.failing{background:#fde2e1}.stale{background:#fff1c9}.stopped{color:#777}")
        .append(".state{font-weight:600}svg{vertical-align:middle}.restarted{font-weight:600;color:#c62828}")
        .append("#reader.down{background:#fde2e1;border:1px solid #c62828;padding:.6em .8em}</style></head><body>")
        .append("<h1>Indexers' health</h1>")
        .append(readerBanner(reader, nowMs)).append("<p>")
        .append(rows.size()).append(" instances, as of ").append(TIME.format(Instant.ofEpochMilli(nowMs)))
        .append(" UTC · <a href=\"/ops/health.json\">JSON</a></p>")
        .append("<table id=\"health\"><thead><tr><th>service</th><th>instance</th><th>activity, last hour</th>")
        .append("<th>activity</th><th>errors</th><th>dead letters</th><th>last activity</th><th>lag</th>")
        // New columns go last: scripts and tests read the cells by position.
        .append("<th>state</th><th>traces</th><th>up</th><th>restarts</th></tr></thead><tbody>");
    for (HealthRow r : rows) {
      h.append("<tr class=\"").append(r.state().label()).append("\" data-service=\"").append(esc(r.service()))
          .append("\" data-instance=\"").append(esc(r.instance())).append("\" data-state=\"")
          .append(r.state().label()).append("\">")
          .append("<td>").append(esc(r.service())).append("</td>")
          .append("<td>").append(esc(r.instance())).append("</td>")
          .append("<td>").append(sparkline(r.sparkline())).append("</td>")
          .append("<td class=\"n\">").append(r.activityTotal()).append("</td>")
          .append("<td class=\"n\">").append(r.errorTotal()).append("</td>")
          .append("<td class=\"n\">").append(r.dlqTotal()).append("</td>")
          .append(lastActivity(r.lastActivityMs(), nowMs))
          .append("<td class=\"n\">").append(r.consumerLag() < 0 ? NO_LAG : Long.toString(r.consumerLag())).append("</td>")
          .append("<td class=\"state\" title=\"").append(esc(r.reason())).append("\">").append(r.state().label())
          .append("</td><td><a href=\"").append(esc(zipkin.traces(r.service()))).append("\">traces</a></td>")
          .append(uptime(r)).append(restarts(r)).append("</tr>");
    }
    return h.append("</tbody></table></body></html>").toString();
  }

  /**
   * Whether this page's own reading of service.health works: a reader that cannot read shows an
   * empty or stale table, which must not pass for a fleet with nothing running.
   */
  private static String readerBanner(ReaderStatus reader, long nowMs) {
    String lastRead = reader.lastReadMs() <= 0 ? "never"
        : TIME.format(Instant.ofEpochMilli(reader.lastReadMs())) + " UTC (" + ago(nowMs - reader.lastReadMs()) + ")";
    if (reader.reading()) {
      return "<p id=\"reader\" class=\"ok\" data-reading=\"true\">" + HistoryAssignment.TOPIC + ": "
          + esc(reader.detail()) + " · last heartbeat read " + lastRead + "</p>";
    }
    return "<p id=\"reader\" class=\"down\" data-reading=\"false\"><strong>Not reading " + HistoryAssignment.TOPIC
        + "</strong>: " + esc(reader.detail()) + " · last heartbeat read " + lastRead
        + ". The rows are what was read before; they turn stale, and leave the table after an hour.</p>";
  }

  /** One bar per minute, scaled to the busiest minute; empty minutes draw nothing. */
  static String sparkline(long[] perMinute) {
    long max = 1;
    for (long v : perMinute) {
      max = Math.max(max, v);
    }
    double w = (double) SPARK_W / perMinute.length;
    StringBuilder s = new StringBuilder(256).append("<svg class=\"spark\" width=\"").append(SPARK_W)
        .append("\" height=\"").append(SPARK_H).append("\" viewBox=\"0 0 ").append(SPARK_W).append(' ')
        .append(SPARK_H).append("\" role=\"img\"><line x1=\"0\" y1=\"").append(SPARK_H - 0.5).append("\" x2=\"")
        .append(SPARK_W).append("\" y2=\"").append(SPARK_H - 0.5).append("\" stroke=\"#bbb\"/>");
    for (int i = 0; i < perMinute.length; i++) {
      if (perMinute[i] <= 0) {
        continue;
      }
      double bar = Math.max(1, (double) perMinute[i] / max * (SPARK_H - 2));
      s.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#3570b0\"/>",
          i * w, SPARK_H - 1 - bar, Math.max(1, w - 0.5), bar));
    }
    return s.append("</svg>").toString();
  }

  /** How long the process shown has been up, and since when; n/a from a sender without started_at_ms. */
  private static String uptime(HealthRow r) {
    if (r.uptimeMs() < 0) {
      return "<td class=\"up\">n/a</td>";
    }
    Instant since = Instant.ofEpochMilli(r.startedAtMs());
    String live = r.state() == HealthState.STALE || r.state() == HealthState.STOPPED
        ? " until its last heartbeat at " + Instant.ofEpochMilli(r.lastHeartbeatMs()) : "";
    return "<td class=\"up\" title=\"up since " + since + live + "\">" + duration(r.uptimeMs()) + " (since "
        + TIME.format(since) + " UTC)</td>";
  }

  /** Restarts within the failing window; a crash loop's rows alternate stale and healthy without it. */
  private static String restarts(HealthRow r) {
    return "<td class=\"n restarts" + (r.restarts() > 0 ? " restarted" : "") + "\" title=\"restarts in the last "
        + InstanceHealth.window(r.restartWindowMs()) + "\">" + r.restarts() + "</td>";
  }

  static String duration(long ms) {
    long s = Math.max(0, ms / 1000);
    return s < 120 ? s + " s" : s < 7200 ? s / 60 + " min" : s < 172_800 ? s / 3600 + " h" : s / 86_400 + " d";
  }

  private static String lastActivity(long atMs, long nowMs) {
    if (atMs <= 0) {
      return "<td>never</td>";
    }
    return "<td title=\"" + Instant.ofEpochMilli(atMs) + "\">" + ago(nowMs - atMs) + "</td>";
  }

  static String ago(long ms) {
    long s = Math.max(0, ms / 1000);
    return s < 120 ? s + " s ago" : s < 7200 ? s / 60 + " min ago" : s / 3600 + " h ago";
  }

  static String esc(String s) {
    return HtmlEscapers.htmlEscaper().escape(s);
  }
}
