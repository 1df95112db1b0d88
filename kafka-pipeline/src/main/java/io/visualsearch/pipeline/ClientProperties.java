package io.visualsearch.pipeline;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The operator's Kafka client properties ({@code KAFKA_CLIENT_PROPERTIES}) as key and value. The
 * setting is a comma list, and some values hold commas themselves ({@code ssl.enabled.protocols=
 * TLSv1.2,TLSv1.3}, a JAAS password): only a comma followed by {@code key=} starts the next property,
 * and a value is kept as typed, since a changed password fails only later, at the broker.
 */
final class ClientProperties {

  /** A Kafka client property's name (ssl.enabled.protocols, sasl.jaas.config), then {@code =}. */
  private static final String KEY = "[A-Za-z0-9][A-Za-z0-9._-]*\\s*=";

  private static final Pattern PROPERTY = Pattern.compile(KEY + ".*", Pattern.DOTALL);

  /** Where the setting splits into properties: a comma with only spaces before the next {@code key=}. */
  static final Pattern SEPARATOR = Pattern.compile(",(?=\\s*" + KEY + ")");

  private ClientProperties() {}

  /** Whether the setting split at {@link #SEPARATOR} reads as properties: only the first can fail to. */
  static boolean wellFormed(List<String> properties) {
    return properties.stream().allMatch(p -> PROPERTY.matcher(p).matches());
  }

  /** The properties, in order; a key given twice keeps its last value. */
  static Map<String, String> parse(List<String> properties) {
    if (!wellFormed(properties)) {
      // Never the property itself: it may be part of a password.
      throw new IllegalArgumentException("the first of the client properties is not key=value");
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (String property : properties) {
      int eq = property.indexOf('=');
      out.put(property.substring(0, eq).trim(), property.substring(eq + 1).trim());
    }
    return out;
  }
}
