package io.visualsearch.searchapi.auth;

import io.visualsearch.indexformat.IndexLayout;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The tenants' API keys. A presented key is hashed and compared with every stored key hash in
 * constant time, without stopping at the first match, so neither the time to answer nor its
 * shape tells an attacker how close a guess was or which tenants exist.
 */
public final class ApiKeys {

  private record Entry(String tenant, byte[] keyHash) {}

  private static final int MIN_KEY_LENGTH = 16;

  private final List<Entry> entries;

  private ApiKeys(List<Entry> entries) {
    this.entries = List.copyOf(entries);
  }

  /**
   * Parses {@code tenant:key} pairs; throws on a malformed pair, an invalid tenant, a short key or
   * one key given to two tenants. A tenant may have several keys (rotation), and a pair may repeat
   * (the same entry in SEARCH_API_KEYS and the key file). Errors name an entry by its position
   * (#1 is the first) and never quote it: an entry written key-first ({@code <key>:acme}) would
   * otherwise put its key in the start-up logs as a tenant name.
   */
  public static ApiKeys parse(Collection<String> pairs) {
    List<Entry> entries = new ArrayList<>();
    Map<String, Integer> firstEntryByKeyHash = new HashMap<>();
    List<String> tenants = new ArrayList<>();
    int n = 0;
    for (String pair : pairs) {
      n++;
      int colon = pair.indexOf(':');
      if (colon <= 0 || colon == pair.length() - 1) {
        throw new IllegalArgumentException("API key entry #" + n + " is not tenant:key");
      }
      String tenant = pair.substring(0, colon).trim();
      try {
        IndexLayout.validTenant(tenant);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("API key entry #" + n + " does not start with a tenant name (lower-case"
            + " letters, digits, '-' and '_', at most 63 characters); entries are tenant:key");
      }
      tenants.add(tenant);
      String key = pair.substring(colon + 1).trim();
      if (key.length() < MIN_KEY_LENGTH) {
        throw new IllegalArgumentException("the key of API key entry #" + n + " is shorter than " + MIN_KEY_LENGTH
            + " characters");
      }
      byte[] hash = sha256(key);
      Integer first = firstEntryByKeyHash.putIfAbsent(HexFormat.of().formatHex(hash), n);
      if (first == null) {
        entries.add(new Entry(tenant, hash));
      } else if (!tenants.get(first - 1).equals(tenant)) {
        // A key decides the tenant: shared, it would let one retailer's storefront search another's
        // catalog (whichever was listed first).
        throw new IllegalArgumentException("API key entries #" + first + " and #" + n
            + " give two tenants the same key; each tenant needs its own");
      }
    }
    return new ApiKeys(entries);
  }

  /** Reads a key file: one {@code tenant:key} per line, blank lines and {@code #} comments ignored. */
  public static List<String> readFile(Path file) throws IOException {
    List<String> pairs = new ArrayList<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      String t = line.strip();
      if (!t.isEmpty() && !t.startsWith("#")) {
        pairs.add(t);
      }
    }
    return pairs;
  }

  public int size() {
    return entries.size();
  }

  /** The tenants that have a key: the only ones a request can reach, so the only ones worth serving. */
  public java.util.Set<String> tenants() {
    java.util.Set<String> tenants = new java.util.TreeSet<>();
    entries.forEach(e -> tenants.add(e.tenant()));
    return java.util.Collections.unmodifiableSet(tenants);
  }

  /** The tenant a presented key belongs to, or empty when it matches none. */
  public Optional<String> tenantOf(String presentedKey) {
    if (presentedKey == null || presentedKey.isEmpty()) {
      return Optional.empty();
    }
    byte[] presented = sha256(presentedKey.trim());
    String match = null;
    for (Entry e : entries) {
      // MessageDigest.isEqual is constant-time for equal lengths, and SHA-256 makes every length 32.
      if (MessageDigest.isEqual(presented, e.keyHash()) && match == null) {
        match = e.tenant();
      }
    }
    return Optional.ofNullable(match);
  }

  /** The key of an {@code Authorization: Bearer <key>} header value, or null. */
  public static String bearerToken(String authorizationHeader) {
    if (authorizationHeader == null) {
      return null;
    }
    String h = authorizationHeader.strip();
    if (h.length() < 7 || !h.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    String token = h.substring(7).strip();
    return token.isEmpty() ? null : token;
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
