package io.visualsearch.imagefetch;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLException;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ConnectionClosedException;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.MalformedChunkCodingException;
import org.apache.hc.core5.http.MessageConstraintException;
import org.apache.hc.core5.http.NoHttpResponseException;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.Timeout;

/**
 * Pooled HTTP(S) downloader for product images (Apache HttpClient 5, classic blocking API; call
 * it from worker threads). Per fetch: only http/https; every connection — the first and each
 * manually followed redirect — goes through {@link VettingDnsResolver}, so private, loopback
 * and metadata addresses are never contacted; a watchdog cancels any attempt that outlives the
 * total time limit (slow-trickle servers), not counting its waits for a per-host slot; bodies stop at the byte limit; retriable failures
 * (connect errors, dropped connections, 408, 429, 5xx) are retried with exponential backoff and jitter.
 *
 * <p>Owns its connection pool and watchdog thread: close it when done.
 */
public final class ImageFetcher implements AutoCloseable {

  private final FetchConfig config;
  private final AddressPolicy addresses;
  private final CloseableHttpClient client;
  private final PoolingHttpClientConnectionManager pool;
  private final ScheduledExecutorService watchdog;
  private final HostLimiter hosts;

  /** An error or redirect body up to this size is read to keep the connection; a longer one closes it. */
  private static final long DRAINED_BODY_BYTES = 64 << 10;

  public ImageFetcher(FetchConfig config, AddressPolicy addresses) {
    this.config = config;
    this.addresses = addresses;
    this.hosts = new HostLimiter(config.maxPerHost());
    this.pool = PoolingHttpClientConnectionManagerBuilder.create()
        .setDnsResolver(new VettingDnsResolver(addresses))
        .setMaxConnPerRoute(config.maxPerHost())
        .setMaxConnTotal(config.maxTotal())
        .setDefaultConnectionConfig(ConnectionConfig.custom()
            .setConnectTimeout(Timeout.of(config.connectTimeout()))
            .setSocketTimeout(Timeout.of(config.readTimeout()))
            .build())
        .build();
    this.client = HttpClients.custom()
        .setConnectionManager(pool)
        .disableRedirectHandling()      // followed by hand, so every hop is vetted and counted
        .disableAutomaticRetries()      // retried by hand, only for retriable failures
        .disableContentCompression()    // images are compressed already; no gzip bombs
        .disableCookieManagement()
        .disableAuthCaching()
        .setUserAgent(config.userAgent())
        .setDefaultRequestConfig(RequestConfig.custom()
            .setConnectionRequestTimeout(Timeout.of(config.totalTimeout()))
            .setResponseTimeout(Timeout.of(config.readTimeout()))
            .build())
        .build();
    ScheduledThreadPoolExecutor alarms = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "image-fetch-watchdog");
      t.setDaemon(true);
      return t;
    });
    // Every attempt's alarm is cancelled when it ends, nearly always long before it is due: left
    // queued, each held its request for the whole timeout (~9,000 at 300 images/s) and woke the
    // thread once for nothing.
    alarms.setRemoveOnCancelPolicy(true);
    this.watchdog = alarms;
  }

  /** Alarms still queued: the attempts under way, not the ones that ended. */
  int pendingAlarms() {
    return ((ScheduledThreadPoolExecutor) watchdog).getQueue().size();
  }

  public FetchResult fetch(URI url) {
    return fetch(url, CacheValidators.NONE);
  }

  /** Conditional when {@code previous} carries an ETag or Last-Modified (answer: NotModified). */
  public FetchResult fetch(URI url, CacheValidators previous) {
    FetchResult result = null;
    for (int attempt = 1; attempt <= config.maxAttempts(); attempt++) {
      Attempt outcome = followRedirects(url, previous);
      result = outcome.result();
      if (!(result instanceof FetchResult.Failed failed) || !failed.retriable() || attempt == config.maxAttempts()) {
        return result;
      }
      try {
        Thread.sleep(backoffMillis(attempt, outcome.retryAfterSeconds()));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return result;
      }
    }
    return result;
  }

  /** A result, plus the server's Retry-After in seconds (-1 when absent). */
  private record Attempt(FetchResult result, long retryAfterSeconds, URI redirect) {
    static Attempt of(FetchResult result) {
      return new Attempt(result, -1, null);
    }
  }

  private Attempt followRedirects(URI start, CacheValidators previous) {
    URI current = start;
    Set<URI> seen = new HashSet<>();
    TimeLimit limit = new TimeLimit(config.totalTimeout());
    for (int hop = 0; hop <= config.maxRedirects(); hop++) {
      FetchResult.Failed invalid = checkUrl(current);
      if (invalid != null) {
        return Attempt.of(invalid);
      }
      if (!seen.add(current)) {
        return Attempt.of(failed(FailureCode.TOO_MANY_REDIRECTS,
            "redirect loop: the redirects from " + start + " come back to " + current, false, 0));
      }
      Attempt attempt = exchange(current, previous, limit);
      if (attempt.redirect() == null) {
        return hop > 0 && attempt.result() instanceof FetchResult.Failed f
            ? new Attempt(f.at(current), attempt.retryAfterSeconds(), null) : attempt;
      }
      current = attempt.redirect();
    }
    return Attempt.of(failed(FailureCode.TOO_MANY_REDIRECTS,
        "more than " + config.maxRedirects() + " redirects starting at " + start, false, 0));
  }

  /** Scheme and host checks; IP literals are vetted here too, not only in the resolver. */
  private FetchResult.Failed checkUrl(URI url) {
    String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      return failed(FailureCode.UNSUPPORTED_SCHEME,
          "only http and https image URLs are fetched, not '" + scheme + ":'", false, 0);
    }
    String host = url.getHost();
    if (host == null || host.isEmpty()) {
      return failed(FailureCode.BAD_URL, "the image URL has no host: " + url, false, 0);
    }
    if (url.getRawUserInfo() != null) {
      return failed(FailureCode.BAD_URL, "image URLs with credentials (user@host) are not fetched", false, 0);
    }
    if (Cidr.isLiteral(host)) {
      try {
        String bare = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
        String refusal = addresses.refusal(InetAddress.getByName(bare));
        if (refusal != null) {
          return failed(FailureCode.BLOCKED_ADDRESS, "the image URL points at a non-public address: " + refusal,
              false, 0);
        }
      } catch (UnknownHostException e) {
        return failed(FailureCode.BAD_URL, "the image URL has a malformed address: " + host, false, 0);
      }
    }
    return null;
  }

  /**
   * The server's time for one image, over all its redirects. Waiting for one of our own per-host
   * slots is not the server's time: a host answering within the limit, with more of its images
   * queued than it has slots, would otherwise have the queued ones refused as too slow, for good.
   * Those waits have a limit of their own, the same amount over all hops, so an attempt lasts at
   * most twice the limit.
   */
  private static final class TimeLimit {
    private final long totalNanos;
    private long deadlineNanos;
    private long waitedNanos;

    TimeLimit(Duration total) {
      this.totalNanos = total.toNanos();
      this.deadlineNanos = System.nanoTime() + totalNanos;
    }

    long remainingMillis() {
      return TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
    }

    /** How long the next wait for a slot may last. */
    long slotWaitMillis() {
      return Math.max(0, TimeUnit.NANOSECONDS.toMillis(totalNanos - waitedNanos));
    }

    void exclude(long waited) {
      waitedNanos += waited;
      deadlineNanos += waited;
    }
  }

  private Attempt exchange(URI url, CacheValidators previous, TimeLimit limit) {
    if (limit.remainingMillis() <= 0) {
      return Attempt.of(timeout());
    }
    String origin = originOf(url);
    HttpGet get = new HttpGet(url);
    get.setHeader("Accept", "image/*");
    if (previous.etag() != null) {
      get.setHeader("If-None-Match", previous.etag());
    }
    if (previous.lastModified() != null) {
      get.setHeader("If-Modified-Since", previous.lastModified());
    }
    AtomicBoolean timedOut = new AtomicBoolean();
    boolean answered = false;
    long queued = System.nanoTime();
    // The waits are bounded by the limit too: a host whose slots stay busy that long is asked
    // again later (retriable), not counted against this image.
    try (HostLimiter.Permit permit = hosts.acquire(origin, limit.slotWaitMillis())) {
      if (permit == null) {
        // Our own queue, not the server's speed: worth another try once this host's downloads finish.
        return Attempt.of(failed(FailureCode.RATE_LIMITED, "all " + config.maxPerHost() + " download slots for "
            + origin + " stayed busy for the whole time limit", true, 0));
      }
      limit.exclude(System.nanoTime() - queued);
      long left = limit.remainingMillis();
      ScheduledFuture<?> alarm = watchdog.schedule(() -> {
        timedOut.set(true);
        get.cancel(); // closes the connection: a blocked read returns at once
      }, Math.max(left, 1), TimeUnit.MILLISECONDS);
      try {
        ClassicHttpResponse response = client.executeOpen(null, get, null);
        answered = true;
        try {
          return handle(url, get, response, previous);
        } finally {
          closeQuietly(response);
        }
      } finally {
        alarm.cancel(false);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Attempt.of(failed(FailureCode.IO_ERROR, "interrupted", true, 0));
    } catch (IOException | RuntimeException e) {
      if (!answered && (timedOut.get() || e instanceof SocketTimeoutException && !(e instanceof ConnectTimeoutException))) {
        return Attempt.of(noResponse(origin, timedOut.get() ? config.totalTimeout() : config.readTimeout()));
      }
      if (timedOut.get()) {
        return Attempt.of(timeout());
      }
      return Attempt.of(classify(e));
    }
  }

  private Attempt handle(URI url, HttpGet get, ClassicHttpResponse response, CacheValidators previous)
      throws IOException {
    int status = response.getCode();
    HttpEntity entity = response.getEntity();
    if (status == 304) {
      discard(get, entity);
      if (previous.etag() == null && previous.lastModified() == null) {
        // Nothing was asked to be compared: there is no copy of ours this could refer to.
        return Attempt.of(failed(FailureCode.HTTP_CLIENT_ERROR,
            "the image URL answered HTTP 304 Not Modified to a request that was not conditional", false, status));
      }
      return Attempt.of(new FetchResult.NotModified(url));
    }
    if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
      discard(get, entity);
      Header location = response.getFirstHeader("Location");
      if (location == null || location.getValue().isBlank()) {
        return Attempt.of(failed(FailureCode.BAD_REDIRECT, "HTTP " + status + " without a Location header", false,
            status));
      }
      try {
        return new Attempt(null, -1, url.resolve(new URI(location.getValue().strip())));
      } catch (URISyntaxException | IllegalArgumentException e) {
        return Attempt.of(failed(FailureCode.BAD_REDIRECT, "redirect to a malformed URL: " + location.getValue(),
            false, status));
      }
    }
    if (status == 429 || status >= 500) {
      discard(get, entity);
      boolean limited = status == 429;
      return new Attempt(failed(limited ? FailureCode.RATE_LIMITED : FailureCode.HTTP_SERVER_ERROR,
          "the image server answered HTTP " + status + (limited ? " (rate limited)" : " (server error)"), true,
          status), retryAfter(response), null);
    }
    if (status == 408) {
      // The server gave up waiting for our request (a busy front end closing idle connections):
      // says nothing about the link, and a product dead-lettered for it stays unsearchable.
      discard(get, entity);
      return new Attempt(failed(FailureCode.HTTP_CLIENT_ERROR,
          "the image server answered HTTP 408 (it timed out waiting for the request)", true, status),
          retryAfter(response), null);
    }
    if (status == 404 || status == 410) {
      discard(get, entity);
      return Attempt.of(failed(FailureCode.NOT_FOUND,
          "the image URL answered HTTP " + status + ": check image_link in the feed", false, status));
    }
    if (status < 200 || status >= 300) {
      discard(get, entity);
      return Attempt.of(failed(FailureCode.HTTP_CLIENT_ERROR,
          "the image URL answered HTTP " + status + " (is it public, without login or hotlink protection?)",
          false, status));
    }
    if (entity == null) {
      return Attempt.of(failed(FailureCode.IO_ERROR, "HTTP " + status + " without a body", false, status));
    }
    long declared = entity.getContentLength();
    if (declared > config.maxBytes()) {
      get.cancel(); // do not drain a huge body just to reuse the connection
      return Attempt.of(tooLarge(declared));
    }
    byte[] body = readBounded(get, entity);
    if (body == null) {
      return Attempt.of(tooLarge(-1));
    }
    if (body.length == 0) {
      return Attempt.of(failed(FailureCode.IO_ERROR, "the image URL returned an empty body", false, status));
    }
    return Attempt.of(new FetchResult.Fetched(body, entity.getContentType(), header(response, "ETag"),
        header(response, "Last-Modified"), url));
  }

  /** Scheme, host and port, whichever way the URL spells them: the key of a host's slots. */
  static String originOf(URI url) {
    String scheme = url.getScheme().toLowerCase(Locale.ROOT);
    int port = url.getPort() != -1 ? url.getPort() : scheme.equals("https") ? 443 : 80;
    return scheme + "://" + url.getHost().toLowerCase(Locale.ROOT) + ":" + port;
  }

  /**
   * Lets an unwanted body go: read when short, so the connection is reused; otherwise the
   * connection is closed, so an endless error page costs neither the time limit nor a retry.
   */
  private static void discard(HttpGet get, HttpEntity entity) throws IOException {
    if (entity == null) {
      return;
    }
    long length = entity.getContentLength();
    if (length >= 0 && length <= DRAINED_BODY_BYTES) {
      EntityUtils.consume(entity);
    } else {
      get.cancel();
    }
  }

  /**
   * The body, or null as soon as it exceeds the byte limit, the exchange then cancelled before its
   * stream is closed: closing reads a body to its end to reuse the connection, and an endless one
   * (a camera's stream, a video) was read until the attempt's time limit, the image too large
   * then reported as a slow server's timeout.
   */
  private byte[] readBounded(HttpGet get, HttpEntity entity) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(
        (int) Math.min(Math.max(entity.getContentLength(), 8192), config.maxBytes()));
    byte[] buffer = new byte[16384];
    InputStream in = entity.getContent();
    long total = 0;
    try {
      int n;
      while ((n = in.read(buffer)) >= 0) {
        total += n;
        if (total > config.maxBytes()) {
          break;
        }
        out.write(buffer, 0, n);
      }
    } catch (IOException | RuntimeException e) {
      get.cancel();
      closeAbandoned(in);
      throw e;
    }
    if (total > config.maxBytes()) {
      get.cancel();
      closeAbandoned(in);
      return null;
    }
    in.close();
    return out.toByteArray();
  }

  /** Closes the stream of a cancelled exchange; its connection is gone, whatever closing says. */
  private static void closeAbandoned(InputStream in) {
    try {
      in.close();
    } catch (IOException ignored) {
      // aborted on purpose
    }
  }

  private FetchResult.Failed classify(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof BlockedAddressException) {
        return failed(FailureCode.BLOCKED_ADDRESS, "the image URL points at a non-public address: "
            + t.getMessage(), false, 0);
      }
    }
    // A resolver cannot tell a host that does not exist from a DNS server that failed for a
    // moment, and a product dead-lettered by a blip stays unsearchable until the retailer edits
    // it: both are retried, within the per-record and per-host budgets.
    if (error instanceof UnknownHostException) {
      return failed(FailureCode.DNS_FAILURE, "the image host does not resolve: " + error.getMessage(), true, 0);
    }
    if (error instanceof ConnectException || error instanceof NoRouteToHostException
        || error instanceof ConnectTimeoutException || error instanceof NoHttpResponseException) {
      return failed(FailureCode.CONNECT_FAILED, "cannot connect to the image host: " + error.getMessage(), true, 0);
    }
    if (error instanceof SocketTimeoutException) {
      return failed(FailureCode.TIMEOUT, "the image server stopped sending for more than "
          + config.readTimeout().toMillis() + " ms", false, 0);
    }
    // A connection dropped inside a chunked body reads as broken chunk coding (truncated chunk,
    // or "CRLF expected" when the drop falls between data and its CRLF); HttpCore does not tell
    // that from a server that garbles its chunks, and the indexer's budgets bound what the latter costs.
    if (error instanceof SocketException || error instanceof ConnectionClosedException
        || error instanceof MalformedChunkCodingException) {
      return failed(FailureCode.IO_ERROR, "the image host dropped the connection: " + error.getMessage(), true, 0);
    }
    if (error instanceof MessageConstraintException) {
      // HttpCore's own bounds on a response head (line length, header count): a broken or hostile server.
      return failed(FailureCode.IO_ERROR, "the image server's response head is over the limits: "
          + error.getMessage(), false, 0);
    }
    if (error instanceof SSLException) {
      return failed(FailureCode.TLS_ERROR, "TLS failure talking to the image host: " + error.getMessage(), false, 0);
    }
    return failed(FailureCode.IO_ERROR, "download failed: " + error, false, 0);
  }

  private FetchResult.Failed timeout() {
    return failed(FailureCode.TIMEOUT, "the image download took longer than "
        + config.totalTimeout().toMillis() + " ms (server too slow)", false, 0);
  }

  private FetchResult.Failed noResponse(String origin, Duration waited) {
    return failed(FailureCode.NO_RESPONSE, "no answer from " + origin + " within " + waited.toMillis()
        + " ms: the image host cannot be reached, or never answers", false, 0);
  }

  private FetchResult.Failed tooLarge(long declared) {
    return failed(FailureCode.TOO_LARGE, "the image is larger than " + config.maxBytes() + " bytes"
        + (declared > 0 ? " (declared " + declared + ")" : ""), false, 200);
  }

  private long backoffMillis(int attempt, long retryAfterSeconds) {
    long cap = config.backoffMax().toMillis();
    if (retryAfterSeconds >= 0) {
      return Math.min(TimeUnit.SECONDS.toMillis(retryAfterSeconds), cap);
    }
    long exponential = Math.min(cap, config.backoffBase().toMillis() << Math.min(attempt - 1, 20));
    // Jitter in [50%, 100%] so workers that failed together do not retry in lockstep.
    return exponential / 2 + ThreadLocalRandom.current().nextLong(exponential / 2 + 1);
  }

  private static long retryAfter(ClassicHttpResponse response) {
    Header header = response.getFirstHeader("Retry-After");
    if (header == null) {
      return -1;
    }
    try {
      return Math.max(0, Long.parseLong(header.getValue().strip()));
    } catch (NumberFormatException e) {
      return -1; // an HTTP date: fall back to our own backoff
    }
  }

  /** After an abort the connection is already gone; closing may fail and must not mask the result. */
  private static void closeQuietly(ClassicHttpResponse response) {
    try {
      response.close();
    } catch (IOException e) {
      // nothing left to release
    }
  }

  private static String header(ClassicHttpResponse response, String name) {
    Header h = response.getFirstHeader(name);
    return h == null ? null : h.getValue();
  }

  private static FetchResult.Failed failed(FailureCode code, String message, boolean retriable, int status) {
    return new FetchResult.Failed(code, message, retriable, status);
  }

  @Override
  public void close() {
    watchdog.shutdownNow();
    client.close(CloseMode.IMMEDIATE);
    pool.close(CloseMode.IMMEDIATE);
  }
}
