package io.visualsearch.imagefetch;

import java.time.Duration;

/**
 * Limits of the image downloader.
 *
 * @param connectTimeout TCP (and TLS) connect limit per attempt
 * @param readTimeout longest silence while waiting for headers or body bytes
 * @param totalTimeout limit of one attempt, redirects included: cuts off servers that trickle
 *     bytes just fast enough to beat the read timeout. Waits for one of the host's slots ({@code
 *     maxPerHost}) are not counted, and have the same limit of their own
 * @param maxBytes body size limit; streaming aborts past it
 * @param maxRedirects redirects followed per attempt
 * @param maxAttempts attempts for retriable failures (connect errors, 429, 5xx); 1 = no retry
 * @param backoffBase first retry delay; doubles per attempt, with jitter
 * @param backoffMax cap on one retry delay (also caps a server's Retry-After)
 * @param maxPerHost concurrent requests to one host (scheme, host, port)
 * @param maxTotal concurrent connections overall
 * @param userAgent sent with every request
 */
public record FetchConfig(
    Duration connectTimeout,
    Duration readTimeout,
    Duration totalTimeout,
    long maxBytes,
    int maxRedirects,
    int maxAttempts,
    Duration backoffBase,
    Duration backoffMax,
    int maxPerHost,
    int maxTotal,
    String userAgent) {

  public FetchConfig {
    if (maxBytes < 1 || maxRedirects < 0 || maxAttempts < 1 || maxPerHost < 1 || maxTotal < maxPerHost) {
      throw new IllegalArgumentException("invalid fetch limits");
    }
  }

  public static FetchConfig defaults() {
    return new FetchConfig(Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30), 20L << 20,
        5, 3, Duration.ofMillis(250), Duration.ofSeconds(10), 4, 64, "visual-search-image-fetcher/0.1");
  }

  public FetchConfig withTimeouts(Duration connect, Duration read, Duration total) {
    return new FetchConfig(connect, read, total, maxBytes, maxRedirects, maxAttempts, backoffBase, backoffMax,
        maxPerHost, maxTotal, userAgent);
  }

  public FetchConfig withMaxBytes(long bytes) {
    return new FetchConfig(connectTimeout, readTimeout, totalTimeout, bytes, maxRedirects, maxAttempts,
        backoffBase, backoffMax, maxPerHost, maxTotal, userAgent);
  }

  public FetchConfig withRetries(int attempts, Duration base, Duration max) {
    return new FetchConfig(connectTimeout, readTimeout, totalTimeout, maxBytes, maxRedirects, attempts, base, max,
        maxPerHost, maxTotal, userAgent);
  }

  public FetchConfig withMaxTotal(int total) {
    return new FetchConfig(connectTimeout, readTimeout, totalTimeout, maxBytes, maxRedirects, maxAttempts, backoffBase,
        backoffMax, maxPerHost, total, userAgent);
  }

  public FetchConfig withMaxPerHost(int perHost) {
    return new FetchConfig(connectTimeout, readTimeout, totalTimeout, maxBytes, maxRedirects, maxAttempts,
        backoffBase, backoffMax, perHost, Math.max(maxTotal, perHost), userAgent);
  }

  public FetchConfig withMaxRedirects(int redirects) {
    return new FetchConfig(connectTimeout, readTimeout, totalTimeout, maxBytes, redirects, maxAttempts,
        backoffBase, backoffMax, maxPerHost, maxTotal, userAgent);
  }
}
