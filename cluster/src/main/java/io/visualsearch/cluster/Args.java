package io.visualsearch.cluster;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code --name value} / {@code --name=value} options, checked against the names a command knows. */
public final class Args {

  private final Map<String, String> values = new HashMap<>();

  public Args(String[] args, Set<String> known) {
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument '" + a + "'");
      }
      String name = a.substring(2);
      String value;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
        value = args[++i];
      } else {
        value = "true";
      }
      if (!known.contains(name)) {
        throw new IllegalArgumentException("unknown option --" + name + " (known: --" + String.join(", --", known) + ")");
      }
      values.put(name, value);
    }
  }

  public int integer(String name, int def) {
    String v = values.get(name);
    try {
      return v == null ? def : Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + " wants a whole number, not '" + v + "'");
    }
  }

  public String string(String name, String def) {
    return values.getOrDefault(name, def);
  }

  public List<String> list(String name, String def) {
    return List.of(string(name, def).split(","));
  }

  public boolean flag(String name) {
    return Boolean.parseBoolean(values.getOrDefault(name, "false"));
  }

  public boolean has(String name) {
    return values.containsKey(name);
  }

  /** {@code 90s}, {@code 30m}, {@code 2h}, or plain seconds. */
  public Duration duration(String name, Duration def) {
    String v = values.get(name);
    if (v == null) {
      return def;
    }
    try {
      char unit = v.charAt(v.length() - 1);
      long n = Character.isDigit(unit) ? Long.parseLong(v) : Long.parseLong(v.substring(0, v.length() - 1));
      return switch (Character.isDigit(unit) ? 's' : unit) {
        case 's' -> Duration.ofSeconds(n);
        case 'm' -> Duration.ofMinutes(n);
        case 'h' -> Duration.ofHours(n);
        default -> throw new IllegalArgumentException("--" + name + ": unit must be s, m or h");
      };
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + " wants a duration like 90s or 30m, not '" + v + "'");
    }
  }
}
