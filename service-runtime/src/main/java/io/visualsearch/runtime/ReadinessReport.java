package io.visualsearch.runtime;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Aggregated {@link Component#check()} answers, as served by /readyz: ready when every check of a
 * component that {@link Component#gatesReadiness gates readiness} passes; the others
 * ({@code reportedOnly}) are listed with their answer but do not count.
 */
public record ReadinessReport(boolean ready, Map<String, CheckResult> checks, Set<String> reportedOnly) {

  public static ReadinessReport of(List<Component> components) {
    Map<String, CheckResult> checks = new LinkedHashMap<>();
    Set<String> reportedOnly = new LinkedHashSet<>();
    boolean ready = true;
    for (Component c : components) {
      CheckResult r;
      try {
        r = c.check();
      } catch (RuntimeException e) {
        r = CheckResult.failed(e);
      }
      checks.put(c.name(), r);
      if (c.gatesReadiness()) {
        ready &= r.ok();
      } else {
        reportedOnly.add(c.name());
      }
    }
    return new ReadinessReport(ready, checks, reportedOnly);
  }

  /**
   * The names of the checks that make the service unready, in order, without their details (which
   * name tenants, versions and internal errors): what a heartbeat says of an unready instance.
   */
  public java.util.List<String> failing() {
    java.util.List<String> names = new java.util.ArrayList<>();
    checks.forEach((name, r) -> {
      if (!r.ok() && !reportedOnly.contains(name)) {
        names.add(name);
      }
    });
    return names;
  }

  /**
   * Only whether the service is ready, for a port the public reaches: the checks' details name
   * tenants, versions and internal errors, which belong on the ops port.
   */
  public String toSummaryJson() {
    return "{\"ready\":" + ready + "}\n";
  }

  public String toJson() {
    StringBuilder sb = new StringBuilder("{\"ready\":").append(ready).append(",\"checks\":{");
    String sep = "";
    for (var e : checks.entrySet()) {
      sb.append(sep).append(quote(e.getKey())).append(":{\"ok\":").append(e.getValue().ok())
          .append(",\"detail\":").append(quote(e.getValue().detail()));
      if (reportedOnly.contains(e.getKey())) {
        sb.append(",\"gates_readiness\":false");
      }
      sb.append('}');
      sep = ",";
    }
    return sb.append("}}\n").toString();
  }

  private static String quote(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (char ch : String.valueOf(s).toCharArray()) {
      switch (ch) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        default -> {
          if (ch < 0x20) {
            sb.append(String.format("\\u%04x", (int) ch));
          } else {
            sb.append(ch);
          }
        }
      }
    }
    return sb.append('"').toString();
  }
}
