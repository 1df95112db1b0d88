package io.visualsearch.pipeline;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The operator's Kafka client properties ({@code KAFKA_CLIENT_PROPERTIES}) as key and value. The
 * setting is a comma list, and some values are comma lists themselves
 * ({@code ssl.enabled.protocols=TLSv1.2,TLSv1.3}): a piece that does not begin with {@code key=}
 * belongs to the value before it.
 */
final class ClientProperties {

  /** A Kafka client property's name (ssl.enabled.protocols, sasl.jaas.config), then its value. */
  private static final Pattern PROPERTY = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*\\s*=.*", Pattern.DOTALL);

  private ClientProperties() {}

  /** Whether the pieces the list setting split off read as properties: the first must begin one. */
  static boolean wellFormed(List<String> pieces) {
    return pieces.isEmpty() || PROPERTY.matcher(pieces.get(0)).matches();
  }

  /** The properties, in order; a key given twice keeps its last value. */
  static Map<String, String> parse(List<String> pieces) {
    if (!wellFormed(pieces)) {
      // Never the piece itself: it may be part of a password.
      throw new IllegalArgumentException("the first of the client properties is not key=value");
    }
    Map<String, String> out = new LinkedHashMap<>();
    String key = null;
    for (String piece : pieces) {
      if (PROPERTY.matcher(piece).matches()) {
        int eq = piece.indexOf('=');
        key = piece.substring(0, eq).trim();
        out.put(key, piece.substring(eq + 1).trim());
      } else {
        out.merge(key, piece, (value, more) -> value + "," + more);
      }
    }
    return out;
  }
}
