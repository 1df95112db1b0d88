package io.visualsearch.benchmarks;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code --name=value} command-line options of a benchmark, with defaults at the point of use.
 * Unknown options are an error (a typo must not silently run the default benchmark).
 */
public final class BenchOptions {

  private final Map<String, String> values = new HashMap<>();
  private final Set<String> read = new HashSet<>();

  public BenchOptions(String[] args) {
    for (String a : args) {
      if (!a.startsWith("--")) {
        throw new IllegalArgumentException("options look like --name=value, got '" + a + "'");
      }
      int eq = a.indexOf('=');
      values.put(eq < 0 ? a.substring(2) : a.substring(2, eq), eq < 0 ? "true" : a.substring(eq + 1));
    }
  }

  public String string(String name, String defaultValue) {
    read.add(name);
    return values.getOrDefault(name, defaultValue);
  }

  public int integer(String name, int defaultValue) {
    return Integer.parseInt(string(name, Integer.toString(defaultValue)));
  }

  public double decimal(String name, double defaultValue) {
    return Double.parseDouble(string(name, Double.toString(defaultValue)));
  }

  public boolean flag(String name) {
    return Boolean.parseBoolean(string(name, "false"));
  }

  public Path path(String name, String defaultValue) {
    return Path.of(string(name, defaultValue));
  }

  public List<Integer> integers(String name, String defaultValue) {
    return java.util.Arrays.stream(string(name, defaultValue).split(",")).map(String::trim).map(Integer::valueOf)
        .toList();
  }

  /** {@code NAME=value} pairs separated by ';', in the order given; none when the option is absent. */
  public Map<String, String> pairs(String name) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String kv : string(name, "").split(";")) {
      if (!kv.isBlank()) {
        int eq = kv.indexOf('=');
        if (eq <= 0) {
          throw new IllegalArgumentException("--" + name + " takes NAME=value pairs separated by ';', got '" + kv + "'");
        }
        out.put(kv.substring(0, eq).trim(), kv.substring(eq + 1));
      }
    }
    return out;
  }

  /** Call after reading every option: rejects names nobody asked for. */
  public void rejectUnknown() {
    Set<String> unknown = new HashSet<>(values.keySet());
    unknown.removeAll(read);
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException("unknown options: " + unknown + " (known: " + read + ")");
    }
  }
}
