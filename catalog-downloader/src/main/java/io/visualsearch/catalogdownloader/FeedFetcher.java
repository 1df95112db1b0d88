package io.visualsearch.catalogdownloader;

import io.visualsearch.catalogfeed.FeedRefusedException;
import io.visualsearch.imagefetch.AddressPolicy;
import io.visualsearch.imagefetch.BlockedAddressException;
import io.visualsearch.imagefetch.VettingDnsResolver;
import io.visualsearch.objectstore.ObjectStoreException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.SocketTimeoutException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.apache.hc.client5.http.ClientProtocolException;
import org.apache.hc.client5.http.RedirectException;
import org.apache.hc.client5.http.auth.AuthScope;
import org.apache.hc.client5.http.auth.UsernamePasswordCredentials;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.auth.BasicAuthCache;
import org.apache.hc.client5.http.impl.auth.BasicScheme;
import org.apache.hc.client5.http.impl.auth.CredentialsProviderBuilder;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.protocol.HttpClientContext;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.util.Timeout;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Downloads a feed to a local spool file (the differ reads it twice, so the feed never sits in
 * memory), conditionally where the source supports it: HTTP ETag / Last-Modified, S3 ETag.
 */
final class FeedFetcher {

  /** The feed was downloaded to {@code file}, or is unchanged since the last download. */
  record Fetched(Path file, SourceState state) {}

  /** Longest wait for the next bytes of a feed. */
  private static final Duration STALL = Duration.ofSeconds(30);

  private final Duration timeout;
  private final long maxBytes;
  private final Function<String, S3Client> s3;
  private final Path spoolDir;
  private final AddressPolicy addresses;
  private final VettingDnsResolver.Lookup lookup;

  /** Spools into the JVM's temporary directory. */
  FeedFetcher(Duration timeout, long maxBytes, Function<String, S3Client> s3, AddressPolicy addresses) {
    this(timeout, maxBytes, s3, Path.of(System.getProperty("java.io.tmpdir")), addresses);
  }

  /**
   * Spools into {@code spoolDir} (this instance's {@code ScratchDirectory}, swept after a crash);
   * connects for http(s) feeds only to addresses {@code addresses} allows (CATALOG_FEED_ALLOW).
   */
  FeedFetcher(Duration timeout, long maxBytes, Function<String, S3Client> s3, Path spoolDir, AddressPolicy addresses) {
    this(timeout, maxBytes, s3, spoolDir, addresses, InetAddress::getAllByName);
  }

  /** Resolves feed hosts with {@code lookup} (a test's DNS answers). */
  FeedFetcher(Duration timeout, long maxBytes, Function<String, S3Client> s3, Path spoolDir, AddressPolicy addresses,
      VettingDnsResolver.Lookup lookup) {
    this.timeout = timeout;
    this.maxBytes = maxBytes;
    this.s3 = s3;
    this.spoolDir = spoolDir;
    this.addresses = addresses;
    this.lookup = lookup;
  }

  /** Empty when the source says nothing changed since {@code previous}. */
  Optional<Fetched> fetch(FeedLocation location, SourceState previous) throws IOException {
    boolean sameSource = previous.validFor(location.uri().toString());
    Path spool = Files.createTempFile(spoolDir, "feed-" + location.tenant() + "-", ".spool");
    try {
      Optional<Fetched> r = switch (location.uri().getScheme()) {
        case "http", "https" -> http(location.uri(), sameSource ? previous : SourceState.NONE, spool);
        case "s3" -> s3(location.uri(), sameSource ? previous : SourceState.NONE, spool);
        default -> file(location.uri(), spool);
      };
      if (r.isEmpty()) {
        Files.deleteIfExists(spool);
      }
      return r;
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(spool);
      throw e;
    }
  }

  /**
   * Apache's client, not the JDK's: the JDK client's timeout ends when the headers arrive, so a
   * server that stopped mid-body blocked the read, and every tenant's sync behind it, for ever. Here
   * every read waits at most {@link #STALL} (or the whole limit, if shorter) and the download as a
   * whole the configured timeout: an alarm aborts the exchange, so a server dribbling its headers
   * (which no read timeout catches) is cut off too.
   */
  private Optional<Fetched> http(URI uri, SourceState previous, Path spool) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Timeout stall = Timeout.of(timeout.compareTo(STALL) < 0 ? timeout : STALL);
    ConnectionConfig connection = ConnectionConfig.custom().setConnectTimeout(Timeout.ofSeconds(20))
        .setSocketTimeout(stall).build();
    // user:password@ in a feed URL is HTTP basic authentication, sent at once (as curl does: a
    // private feed may answer an anonymous request 403 or 404, never a challenge) to the feed's own
    // scheme, host and port only: the cache is keyed by that host, so a redirect to another is
    // sent nothing. The client refuses a request whose URL carries the pair, so it leaves the URL.
    HttpClientContext context = HttpClientContext.create();
    URI target = uri;
    if (uri.getRawUserInfo() != null) {
      String userInfo = uri.getUserInfo();
      int colon = userInfo.indexOf(':');
      int port = uri.getPort() >= 0 ? uri.getPort() : uri.getScheme().equals("https") ? 443 : 80;
      HttpHost feedHost = new HttpHost(uri.getScheme(), uri.getHost(), port);
      UsernamePasswordCredentials pair = new UsernamePasswordCredentials(
          colon < 0 ? userInfo : userInfo.substring(0, colon),
          colon < 0 ? new char[0] : userInfo.substring(colon + 1).toCharArray());
      BasicScheme basic = new BasicScheme();
      basic.initPreemptive(pair);
      BasicAuthCache cache = new BasicAuthCache();
      cache.put(feedHost, basic);
      context.setAuthCache(cache);
      context.setCredentialsProvider(CredentialsProviderBuilder.create().add(new AuthScope(feedHost), pair).build());
      target = URI.create(FeedLocation.withoutUserInfo(uri));
    }
    HttpGet get = new HttpGet(target);
    if (previous.etag() != null) {
      get.addHeader("If-None-Match", previous.etag());
    }
    if (previous.lastModified() != null) {
      get.addHeader("If-Modified-Since", previous.lastModified());
    }
    AtomicBoolean overdue = new AtomicBoolean();
    CompletableFuture<Void> alarm = CompletableFuture.runAsync(() -> {
      overdue.set(true);
      get.cancel();
    }, CompletableFuture.delayedExecutor(timeout.toNanos(), TimeUnit.NANOSECONDS));
    // Every connection, to the feed's own host too, goes to a public address or one the operator
    // allowed (CATALOG_FEED_ALLOW): the retailer runs the feed host's DNS and its server's
    // redirects, so trusting the host's name, or its first answer of each download, let the
    // retailer point the download inside the cluster. The resolver vets every connection, so the
    // socket goes where the check looked.
    VettingDnsResolver resolver = new VettingDnsResolver(addresses, lookup);
    // One client a download: feeds are fetched minutes apart, and nothing outlives the call.
    try (CloseableHttpClient client = HttpClients.custom()
        .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
            .setDnsResolver(resolver)
            .setDefaultConnectionConfig(connection).build())
        .setDefaultRequestConfig(RequestConfig.custom().setResponseTimeout(stall).build())
        // The bytes as served: a gzip feed is recognised by the parser, and the size limit counts what was sent.
        .disableContentCompression()
        .build()) {
      return client.execute(get, context, response -> {
        if (response.getCode() == 304) {
          return Optional.empty();
        }
        if (response.getCode() != 200) {
          String message = "feed " + FeedLocation.redact(uri) + " answered HTTP " + response.getCode();
          if (worthARetry(response.getCode())) {
            throw new IOException(message);
          }
          throw new FeedUnusableException(FeedRefusedException.Reason.UNAVAILABLE, message, null);
        }
        InputStream body = response.getEntity().getContent();
        try {
          copyBounded(body, spool, FeedLocation.redact(uri), deadline);
        } catch (IOException | RuntimeException e) {
          // Cancelled before the stream is closed: closing reads the rest of the body to reuse the
          // connection, and a feed past the size limit was read on for the whole download limit.
          get.cancel();
          closeAbandoned(body);
          throw e;
        }
        body.close();
        return Optional.of(new Fetched(spool, SourceState.of(uri.toString(), header(response, "ETag"),
            header(response, "Last-Modified"))));
      });
    } catch (SocketTimeoutException e) {
      throw new IOException("feed " + FeedLocation.redact(uri) + " sent nothing for " + stall + ": download abandoned", e);
    } catch (ClientProtocolException e) {
      // The client's words may quote the whole target (a redirect loop, a Location that is no
      // URL), token or signature included, and would travel to the report, the trace and the log.
      String what = (e.getCause() == null ? e : e.getCause()).getClass().getSimpleName();
      if (e.getCause() instanceof RedirectException) {
        throw new FeedUnusableException(FeedRefusedException.Reason.UNAVAILABLE, "feed " + FeedLocation.redact(uri)
            + ": its server's redirect could not be followed (" + what + ")", null);
      }
      // A garbled answer (a flaky proxy's): worth another try.
      throw new IOException("feed " + FeedLocation.redact(uri) + ": its server's answer was not readable HTTP ("
          + what + ")");
    } catch (BlockedAddressException e) {
      throw new FeedUnusableException(FeedRefusedException.Reason.UNAVAILABLE,
          "feed " + FeedLocation.redact(uri) + ": " + e.getMessage(), e);
    } catch (IOException | RuntimeException e) {
      if (overdue.get() && !(e instanceof FeedTooLargeException)) {
        throw new IOException("feed " + FeedLocation.redact(uri) + " took longer than " + timeout + " to download: download abandoned", e);
      }
      throw e;
    } finally {
      alarm.cancel(false);
    }
  }

  /**
   * Whether a feed host's answer other than 200 and 304 may change on its own: its outage (5xx),
   * "come back later" (408, 429) or a connection's mix-up (421). Any other (404, 403, a redirect
   * the client does not follow, 204) is the feed's to fix: the sync refuses it, not retries it.
   */
  static boolean worthARetry(int code) {
    return code >= 500 || code == 408 || code == 421 || code == 429;
  }

  private static String header(ClassicHttpResponse response, String name) {
    Header h = response.getFirstHeader(name);
    return h == null ? null : h.getValue();
  }

  private Optional<Fetched> s3(URI uri, SourceState previous, Path spool) throws IOException {
    String bucket = uri.getHost();
    String key = uri.getPath().substring(1);
    try (ResponseInputStream<GetObjectResponse> in = s3.apply(bucket).getObject(g -> {
      g.bucket(bucket).key(key);
      if (previous.etag() != null) {
        g.ifNoneMatch(previous.etag());
      }
    })) {
      try {
        copyBounded(in, spool, FeedLocation.redact(uri));
      } catch (IOException | RuntimeException e) {
        in.abort(); // closing would read the rest of an object past the limit, gigabytes of it
        throw e;
      }
      return Optional.of(new Fetched(spool, SourceState.of(uri.toString(), in.response().eTag(), null)));
    } catch (S3Exception e) {
      if (e.statusCode() == 304) {
        return Optional.empty();
      }
      String message = "feed " + FeedLocation.redact(uri) + ": " + e.getMessage();
      if (e.statusCode() == 403 || e.statusCode() == 404) {
        // No such object or bucket, or no right to read it: the retailer's upload or grant is missing.
        throw new FeedUnusableException(FeedRefusedException.Reason.UNAVAILABLE, message, e);
      }
      throw new IOException(message, e);
    } catch (SdkException e) {
      throw new ObjectStoreException("feed " + FeedLocation.redact(uri) + ": " + e.getMessage(), e, true);
    }
  }

  private Optional<Fetched> file(URI uri, Path spool) throws IOException {
    // Copied within the size limit, like a download: a huge file (or a device that never ends)
    // is refused when it passes the limit, not after filling the spool's disk.
    try (InputStream in = Files.newInputStream(Path.of(uri))) {
      copyBounded(in, spool, FeedLocation.redact(uri));
    } catch (NoSuchFileException | AccessDeniedException e) {
      throw new FeedUnusableException(FeedRefusedException.Reason.UNAVAILABLE,
          "feed " + FeedLocation.redact(uri) + ": no readable file " + e.getMessage(), e);
    }
    return Optional.of(new Fetched(spool, SourceState.of(uri.toString(), null,
        Long.toString(Files.getLastModifiedTime(Path.of(uri)).toMillis()))));
  }

  /** Past the size limit: said so, even when the download's time limit also ran out meanwhile. */
  private static final class FeedTooLargeException extends FeedUnusableException {
    FeedTooLargeException(String message) {
      super(FeedRefusedException.Reason.TOO_LARGE, message, null);
    }
  }

  /** Closes the stream of a cancelled download; its connection is gone, whatever closing says. */
  private static void closeAbandoned(InputStream in) {
    try {
      in.close();
    } catch (IOException ignored) {
      // aborted on purpose
    }
  }

  private void copyBounded(InputStream in, Path spool, String what) throws IOException {
    copyBounded(in, spool, what, Long.MAX_VALUE);
  }

  /** Copies at most the size limit, until {@code deadline} (a System.nanoTime() value; MAX_VALUE: none). */
  private void copyBounded(InputStream in, Path spool, String what, long deadline) throws IOException {
    byte[] buf = new byte[1 << 16];
    long total = 0;
    try (OutputStream out = Files.newOutputStream(spool)) {
      for (int n; (n = in.read(buf)) > 0; ) {
        total += n;
        if (total > maxBytes) {
          throw new FeedTooLargeException("feed " + what + " is larger than " + maxBytes + " bytes");
        }
        if (deadline != Long.MAX_VALUE && System.nanoTime() - deadline > 0) {
          throw new IOException("feed " + what + " took longer than " + timeout + " to download (" + total
              + " bytes so far)");
        }
        out.write(buf, 0, n);
      }
    }
  }
}
