package io.visualsearch.catalogdownloader;

import io.visualsearch.topics.Topics;
import java.net.URI;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Where one tenant's feed is: {@code tenant=http(s)://...}, {@code s3://bucket/key} or {@code file:///...}. */
public record FeedLocation(String tenant, URI uri) {

  public FeedLocation {
    Topics.requireTenant(tenant);
    String scheme = uri.getScheme();
    if (scheme == null || !(scheme.equals("http") || scheme.equals("https") || scheme.equals("s3")
        || scheme.equals("file"))) {
      throw new IllegalArgumentException("unsupported feed URL " + uri + ": use http(s)://, s3:// or file://");
    }
    if (scheme.equals("s3") && (uri.getHost() == null || uri.getPath() == null || uri.getPath().length() < 2)) {
      throw new IllegalArgumentException("S3 feed URL must be s3://bucket/key: " + uri);
    }
  }

  public static FeedLocation parse(String spec) {
    int eq = spec.indexOf('=');
    if (eq <= 0) {
      throw new IllegalArgumentException("expected tenant=url, got " + spec);
    }
    return new FeedLocation(spec.substring(0, eq).trim(), URI.create(spec.substring(eq + 1).trim()));
  }

  /** Whether no tenant appears twice among valid specs (invalid ones are reported by {@link #isValid}). */
  static boolean tenantsAreUnique(List<String> specs) {
    Set<String> seen = new HashSet<>();
    return specs.stream().filter(FeedLocation::isValid).map(s -> parse(s).tenant()).allMatch(seen::add);
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
