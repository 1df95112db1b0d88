package io.visualsearch.tracing;

import io.visualsearch.config.ConfigDef;
import io.visualsearch.config.Setting;
import java.net.URI;
import java.net.URISyntaxException;

/** Where spans go and how many are kept. */
public final class TracingSettings {

  public static final Setting<String> ZIPKIN_ENDPOINT = Setting.string("ZIPKIN_ENDPOINT")
      .defaultValue("http://127.0.0.1:9411/api/v2/spans")
      .validate(TracingSettings::isEndpoint, "'none' or an http(s):// URL")
      .doc("Zipkin v2 span endpoint; the word 'none' disables export.");
  public static final Setting<Double> SAMPLE_RATIO = Setting.decimal("TRACING_SAMPLE_RATIO").defaultValue(1.0)
      .validate(r -> r >= 0 && r <= 1, "between 0 and 1")
      .doc("Share of new traces recorded; a sampled parent in a record's or internal call's headers is always honoured (search-api's public API starts its own trace, linked to the caller's).");

  private TracingSettings() {}

  /** Checked at start: the sender refused a bad URL only while wiring, as a failed start, not a config error. */
  static boolean isEndpoint(String value) {
    if (value.strip().equalsIgnoreCase("none")) {
      return true;
    }
    try {
      URI uri = new URI(value.strip());
      return ("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme()))
          && uri.getHost() != null;
    } catch (URISyntaxException e) {
      return false;
    }
  }

  public static ConfigDef definition() {
    return new ConfigDef().define(ZIPKIN_ENDPOINT, SAMPLE_RATIO);
  }
}
