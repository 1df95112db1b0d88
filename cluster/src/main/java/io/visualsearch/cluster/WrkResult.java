package io.visualsearch.cluster;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What one {@code wrk --latency} run reports: the 50th and 99th latency percentiles, requests,
 * and errors — socket errors (connect, read, write, timeout) plus non-2xx/3xx answers.
 */
public record WrkResult(double p50Millis, double p99Millis, long requests, long errors, double seconds) {

  private static final Pattern PERCENTILE = Pattern.compile("^\\s*(50|99)(?:\\.0+)?%\\s+([0-9.]+)(us|ms|s)\\s*$",
      Pattern.MULTILINE);
  private static final Pattern REQUESTS = Pattern.compile("([0-9]+) requests in ([0-9.]+)(ms|s|m)");
  private static final Pattern SOCKET = Pattern.compile(
      "Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+)");
  private static final Pattern NON_2XX = Pattern.compile("Non-2xx or 3xx responses: ([0-9]+)");

  public static WrkResult parse(String output) {
    double p50 = Double.NaN;
    double p99 = Double.NaN;
    Matcher m = PERCENTILE.matcher(output);
    while (m.find()) {
      double v = millis(Double.parseDouble(m.group(2)), m.group(3));
      if (m.group(1).equals("50")) {
        p50 = v;
      } else {
        p99 = v;
      }
    }
    Matcher r = REQUESTS.matcher(output);
    if (Double.isNaN(p50) || Double.isNaN(p99) || !r.find()) {
      throw new IllegalArgumentException("not a wrk --latency report:\n" + output);
    }
    long requests = Long.parseLong(r.group(1));
    double seconds = millis(Double.parseDouble(r.group(2)), r.group(3)) / 1000;
    long errors = 0;
    Matcher s = SOCKET.matcher(output);
    if (s.find()) {
      for (int g = 1; g <= 4; g++) {
        errors += Long.parseLong(s.group(g));
      }
    }
    Matcher n = NON_2XX.matcher(output);
    if (n.find()) {
      errors += Long.parseLong(n.group(1));
    }
    return new WrkResult(p50, p99, requests, errors, seconds);
  }

  private static double millis(double value, String unit) {
    return switch (unit) {
      case "us" -> value / 1000;
      case "ms" -> value;
      case "s" -> value * 1000;
      case "m" -> value * 60_000;
      default -> throw new IllegalArgumentException(unit);
    };
  }

  public double qps() {
    return seconds > 0 ? requests / seconds : 0;
  }
}
