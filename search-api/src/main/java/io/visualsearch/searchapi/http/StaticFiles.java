package io.visualsearch.searchapi.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The storefront page: a fixed set of files (no directory listing, no path ever built from the
 * request), read from the jar or, for page development, from a directory.
 */
public final class StaticFiles {

  /**
   * What the page may load and who may frame it: its own script, style and API calls; pictures
   * also from the retailers' image hosts (any http/https address, as feeds give them) and the
   * shopper's own photo (a blob: URL); no inline script, plugins, base or foreign form targets;
   * never inside another site's frame (clickjacking the API-key field).
   */
  public static final String CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' blob: http: https:;"
      + " object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

  private static final String RESOURCE_DIR = "/io/visualsearch/searchapi/storefront/";
  private static final Map<String, String> FILES = Map.of(
      "index.html", "text/html; charset=utf-8",
      "app.js", "text/javascript; charset=utf-8",
      "style.css", "text/css; charset=utf-8");

  private final Path directory;

  /** @param directory where to read the files from, or null for the copies inside the jar */
  public StaticFiles(Path directory) {
    this.directory = directory;
  }

  /** The file for a request path ("/" is index.html), or null when there is none. */
  public Asset get(String path) {
    String name = path.equals("/") ? "index.html" : path.startsWith("/static/") ? path.substring(8) : null;
    if (name == null || !FILES.containsKey(name)) {
      return null;
    }
    try {
      byte[] bytes;
      if (directory != null) {
        bytes = Files.readAllBytes(directory.resolve(name));
      } else {
        try (InputStream in = StaticFiles.class.getResourceAsStream(RESOURCE_DIR + name)) {
          if (in == null) {
            return null;
          }
          bytes = in.readAllBytes();
        }
      }
      return new Asset(bytes, FILES.get(name), etagOf(bytes));
    } catch (IOException e) {
      throw new UncheckedIOException("storefront file " + name + " unreadable", e);
    }
  }

  /**
   * A strong validator from the content itself: the same after a restart and on every replica
   * (a file time or start time would differ between replicas behind one address, and a browser
   * revalidating against another replica would download the file again).
   */
  static String etagOf(byte[] bytes) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(bytes);
      return "\"" + Base64.getUrlEncoder().withoutPadding().encodeToString(Arrays.copyOf(digest, 16)) + "\"";
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  /** A page file with its validator: served {@code no-cache}, so a browser asks again with it and gets a 304. */
  public record Asset(byte[] bytes, String contentType, String etag) {

    private static final Pattern ENTITY_TAG = Pattern.compile("(?:W/)?(\"[^\"]*\")");

    /**
     * Whether an {@code If-None-Match} header names this version (or is {@code *}): compared
     * weakly, as RFC 9110 asks of it, so a proxy's weakened copy of our tag still matches.
     */
    public boolean matches(String ifNoneMatch) {
      if (ifNoneMatch == null) {
        return false;
      }
      if (ifNoneMatch.strip().equals("*")) {
        return true;
      }
      // Each entity-tag is a quoted string, weak ones prefixed W/; whatever else a client sends
      // between them (junk, a malformed tag) names no version, and is not an error.
      Matcher tags = ENTITY_TAG.matcher(ifNoneMatch);
      while (tags.find()) {
        if (tags.group(1).equals(etag)) {
          return true;
        }
      }
      return false;
    }
  }
}
