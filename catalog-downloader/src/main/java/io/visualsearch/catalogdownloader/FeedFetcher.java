package io.visualsearch.catalogdownloader;

import io.visualsearch.objectstore.ObjectStoreException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;
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

  private final HttpClient http;
  private final Duration timeout;
  private final long maxBytes;
  private final Function<String, S3Client> s3;

  FeedFetcher(Duration timeout, long maxBytes, Function<String, S3Client> s3) {
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(20))
        .followRedirects(HttpClient.Redirect.NORMAL).build();
    this.timeout = timeout;
    this.maxBytes = maxBytes;
    this.s3 = s3;
  }

  /** Empty when the source says nothing changed since {@code previous}. */
  Optional<Fetched> fetch(FeedLocation location, SourceState previous) throws IOException, InterruptedException {
    boolean sameSource = previous.uri().equals(location.uri().toString());
    Path spool = Files.createTempFile("feed-" + location.tenant() + "-", ".spool");
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
    } catch (IOException | InterruptedException | RuntimeException e) {
      Files.deleteIfExists(spool);
      throw e;
    }
  }

  private Optional<Fetched> http(URI uri, SourceState previous, Path spool) throws IOException, InterruptedException {
    HttpRequest.Builder req = HttpRequest.newBuilder(uri).timeout(timeout).GET();
    if (previous.etag() != null) {
      req.header("If-None-Match", previous.etag());
    }
    if (previous.lastModified() != null) {
      req.header("If-Modified-Since", previous.lastModified());
    }
    HttpResponse<InputStream> resp = http.send(req.build(), HttpResponse.BodyHandlers.ofInputStream());
    try (InputStream body = resp.body()) {
      if (resp.statusCode() == 304) {
        return Optional.empty();
      }
      if (resp.statusCode() != 200) {
        throw new IOException("feed " + uri + " answered HTTP " + resp.statusCode());
      }
      copyBounded(body, spool, uri.toString());
    }
    return Optional.of(new Fetched(spool, new SourceState(uri.toString(),
        resp.headers().firstValue("ETag").orElse(null), resp.headers().firstValue("Last-Modified").orElse(null))));
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
      copyBounded(in, spool, uri.toString());
      return Optional.of(new Fetched(spool, new SourceState(uri.toString(), in.response().eTag(), null)));
    } catch (S3Exception e) {
      if (e.statusCode() == 304) {
        return Optional.empty();
      }
      throw new IOException("feed " + uri + ": " + e.getMessage(), e);
    } catch (SdkException e) {
      throw new ObjectStoreException("feed " + uri + ": " + e.getMessage(), e, true);
    }
  }

  private Optional<Fetched> file(URI uri, Path spool) throws IOException {
    Files.copy(Path.of(uri), spool, StandardCopyOption.REPLACE_EXISTING);
    if (Files.size(spool) > maxBytes) {
      throw new IOException("feed " + uri + " is larger than " + maxBytes + " bytes");
    }
    return Optional.of(new Fetched(spool, new SourceState(uri.toString(), null,
        Long.toString(Files.getLastModifiedTime(Path.of(uri)).toMillis()))));
  }

  private void copyBounded(InputStream in, Path spool, String what) throws IOException {
    byte[] buf = new byte[1 << 16];
    long total = 0;
    try (OutputStream out = Files.newOutputStream(spool)) {
      for (int n; (n = in.read(buf)) > 0; ) {
        total += n;
        if (total > maxBytes) {
          throw new IOException("feed " + what + " is larger than " + maxBytes + " bytes");
        }
        out.write(buf, 0, n);
      }
    }
  }
}
