package io.visualsearch.catalogdownloader;

import io.visualsearch.topics.Topics;
import java.net.URI;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/** Where one tenant's feed is: {@code tenant=http(s)://...}, {@code s3://bucket/key} or {@code file:///...}. */
public record FeedLocation(String tenant, URI uri) {

  public FeedLocation {
    Topics.requireTenant(tenant);
    String scheme = uri.getScheme();
    if (scheme == null || !(scheme.equals("http") || scheme.equals("https") || scheme.equals("s3")
        || scheme.equals("file"))) {
      throw new IllegalArgumentException("unsupported feed URL " + redact(uri) + ": use http(s)://, s3:// or file://");
    }
    if (scheme.startsWith("http") && uri.getHost() == null) {
      // "https://u:p@ss@host/feed": an unescaped '@' (or '/', '?', '#') in the user info leaves no
      // host to parse; fetched, every sync failed on "target host not specified".
      throw new IllegalArgumentException("feed URL " + redact(uri) + " has no host: percent-encode '@', ':', '/',"
          + " '?' and '#' in a user name or password");
    }
    if (scheme.equals("s3") && (uri.getHost() == null || uri.getPath() == null || uri.getPath().length() < 2)) {
      throw new IllegalArgumentException("S3 feed URL must be s3://bucket/key: " + redact(uri));
    }
  }

  /**
   * The feed's address as reports, records, traces and logs show it: a private feed's credential
   * lives in its URL (user info, a token or a presigned S3 signature in the query), and those
   * places are read by far more people and services than the configuration.
   */
  public String display() {
    return redact(uri);
  }

  /** {@code uri} as written but without its user info ({@code user:password@}), if it has any. */
  static String withoutUserInfo(URI uri) {
    String raw = uri.toString();
    return uri.getRawUserInfo() == null ? raw : raw.replaceFirst("//" + Pattern.quote(uri.getRawUserInfo()) + "@", "//");
  }

  /** {@code uri} without user info, each query parameter's value replaced by {@code ***}. */
  static String redact(URI uri) {
    if (uri.getScheme() == null) {
      return uri.getRawPath() == null ? "" : uri.getRawPath(); // not a URL we fetch: a relative path at most
    }
    StringBuilder out = new StringBuilder(uri.getScheme()).append(':');
    if (uri.getRawAuthority() != null) {
      out.append("//").append(uri.getHost() == null ? "" : uri.getHost());
      if (uri.getPort() >= 0) {
        out.append(':').append(uri.getPort());
      }
    }
    out.append(uri.getRawPath() == null ? "" : uri.getRawPath());
    if (uri.getRawQuery() != null) {
      StringBuilder query = new StringBuilder();
      for (String pair : uri.getRawQuery().split("&", -1)) {
        int eq = pair.indexOf('=');
        query.append(query.length() == 0 ? "" : "&").append(eq < 0 ? pair : pair.substring(0, eq) + "=***");
      }
      out.append('?').append(query);
    }
    return out.toString();
  }

  public static FeedLocation parse(String spec) {
    int eq = spec.indexOf('=');
    if (eq <= 0) {
      throw new IllegalArgumentException("expected tenant=url, got " + spec);
    }
    return new FeedLocation(spec.substring(0, eq).trim(), URI.create(spec.substring(eq + 1).trim()));
  }

  /**
   * CATALOG_SOURCES as logs show it, each URL as {@link #display()} does; a spec that is not a
   * valid location is still masked, since the start-up error that names it is logged too.
   */
  static String displaySpecs(List<String> specs) {
    return String.join(",", specs.stream().map(FeedLocation::displaySpec).toList());
  }

  private static String displaySpec(String spec) {
    int eq = spec.indexOf('=');
    String tenant = eq < 0 ? "" : spec.substring(0, eq).trim() + "=";
    String url = spec.substring(eq + 1).trim();
    try {
      return tenant + redact(URI.create(url));
    } catch (IllegalArgumentException e) {
      return tenant + "(not a URL)";
    }
  }

  /** Whether no tenant appears twice among valid specs (invalid ones are reported by {@link #isValid}). */
  static boolean tenantsAreUnique(List<String> specs) {
    Set<String> seen = new HashSet<>();
    return specs.stream().filter(FeedLocation::isValid).map(s -> parse(s).tenant()).allMatch(seen::add);
  }

  /**
   * Whether no feed is named by two tenants among valid specs: the second would publish the first's
   * catalog as its own (a copy/paste slip when onboarding). Compared without user info, case-blind in
   * scheme and host, with dot segments resolved.
   */
  static boolean feedsAreUnique(List<String> specs) {
    Set<String> seen = new HashSet<>();
    return specs.stream().filter(FeedLocation::isValid).map(s -> parse(s).sameFeedKey()).allMatch(seen::add);
  }

  private String sameFeedKey() {
    URI n = uri.normalize();
    String host = n.getHost() == null ? "" : n.getHost().toLowerCase(Locale.ROOT);
    return n.getScheme().toLowerCase(Locale.ROOT) + "://" + host + ":" + n.getPort() + (n.getPath() == null ? n.getSchemeSpecificPart() : n.getPath()) + "?" + n.getQuery();
  }

  static boolean isValid(String spec) {
    try {
      parse(spec);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
