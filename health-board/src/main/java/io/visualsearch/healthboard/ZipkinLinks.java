package io.visualsearch.healthboard;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/** Links from a row to that service's traces of the last hour in the Zipkin UI. */
public final class ZipkinLinks {

  private final String base;

  public ZipkinLinks(String uiBase) {
    this.base = uiBase.endsWith("/") ? uiBase.substring(0, uiBase.length() - 1) : uiBase;
  }

  public String traces(String service) {
    return base + "/zipkin/?serviceName=" + URLEncoder.encode(service, StandardCharsets.UTF_8) + "&lookback=3600000";
  }
}
