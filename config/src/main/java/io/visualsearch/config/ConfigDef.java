package io.visualsearch.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The settings one service reads. Parsing reports every problem at once, so an operator fixes a
 * deployment in one round instead of one variable per restart.
 */
public final class ConfigDef {

  private final Map<String, Setting<?>> settings = new LinkedHashMap<>();

  public ConfigDef define(Setting<?>... defs) {
    for (Setting<?> s : defs) {
      if (settings.putIfAbsent(s.env(), s) != null && settings.get(s.env()) != s) {
        throw new IllegalArgumentException("setting defined twice: " + s.env());
      }
    }
    return this;
  }

  public ConfigDef include(ConfigDef other) {
    other.settings.values().forEach(this::define);
    return this;
  }

  public List<Setting<?>> settings() {
    return Collections.unmodifiableList(new ArrayList<>(settings.values()));
  }

  public Config parse(Map<String, String> env) {
    Map<Setting<?>, Object> values = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    for (Setting<?> s : settings.values()) {
      String raw = env.get(s.env());
      try {
        if (raw == null || raw.isBlank()) {
          if (s.required()) {
            problems.add(s.env() + " is required but not set" + (s.doc().isEmpty() ? "" : ": " + s.doc()));
          } else {
            values.put(s, s.defaultValue());
          }
        } else {
          values.put(s, s.parse(raw));
        }
      } catch (IllegalArgumentException e) {
        problems.add(s.env() + ": " + e.getMessage());
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return new Config(values);
  }

  /** The env-var table for a module README, generated from the definitions themselves. */
  public String markdownTable() {
    StringBuilder sb = new StringBuilder("| variable | type | default | description |\n|---|---|---|---|\n");
    for (Setting<?> s : settings.values()) {
      String doc = s.doc() + (s.validDescription().isEmpty() ? "" : " Must be " + s.validDescription() + ".");
      sb.append("| `").append(s.env()).append("` | ").append(s.type()).append(" | ").append(s.documentedDefault())
          .append(" | ").append(doc.replace("|", "\\|")).append(" |\n");
    }
    return sb.toString();
  }
}
