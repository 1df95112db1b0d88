package io.visualsearch.config;

import java.util.Map;
import java.util.stream.Collectors;

/** Parsed, validated values of a {@link ConfigDef}. */
public final class Config {

  private final Map<Setting<?>, Object> values;

  Config(Map<Setting<?>, Object> values) {
    this.values = values;
  }

  @SuppressWarnings("unchecked")
  public <T> T get(Setting<T> setting) {
    if (!values.containsKey(setting)) {
      throw new IllegalArgumentException("setting " + setting.env() + " is not part of this configuration");
    }
    return (T) values.get(setting);
  }

  /** A copy with one value replaced, validated as if it had come from the environment. */
  public <T> Config with(Setting<T> setting, T value) {
    setting.check(value);
    java.util.LinkedHashMap<Setting<?>, Object> copy = new java.util.LinkedHashMap<>(values);
    copy.put(setting, value);
    return new Config(copy);
  }

  /** For start-up logs: every value, secrets masked, values that carry one shown as their setting says. */
  @Override
  public String toString() {
    return values.entrySet().stream()
        .map(e -> e.getKey().env() + "=" + shown(e.getKey(), e.getValue()))
        .collect(Collectors.joining(", ", "{", "}"));
  }

  @SuppressWarnings("unchecked")
  private static <T> String shown(Setting<T> setting, Object value) {
    return setting.display((T) value);
  }
}
