package io.visualsearch.cluster;

import io.visualsearch.samplecatalog.FashionMnist;
import io.visualsearch.samplecatalog.SampleImageServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The retailers of a cluster run: the Fashion-MNIST image host (in the launcher's JVM, like a
 * retailer's CDN outside the cluster), one feed file and one API key per tenant.
 */
public final class SampleCatalog implements AutoCloseable {

  /** Products held back per tenant for "new product" changes. */
  static final int RESERVE = 200;

  private final FashionMnist dataset;
  private final SampleImageServer images;
  private final Map<String, TenantFeed> feeds = new LinkedHashMap<>();
  private final Map<String, String> apiKeys = new LinkedHashMap<>();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  public SampleCatalog(FashionMnist dataset, Path feedDir, List<String> tenants, int size) throws IOException {
    this.dataset = dataset;
    this.images = new SampleImageServer(dataset, 0);
    images.start();
    SecureRandom random = new SecureRandom();
    for (String tenant : tenants) {
      feeds.put(tenant, new TenantFeed(tenant, feedDir.resolve("feed-" + tenant + ".tsv"), dataset.train(),
          images.baseUrl(), size, RESERVE));
      byte[] key = new byte[16];
      random.nextBytes(key);
      apiKeys.put(tenant, "vs_" + HexFormat.of().formatHex(key));
    }
  }

  public FashionMnist dataset() {
    return dataset;
  }

  public List<TenantFeed> feeds() {
    return List.copyOf(feeds.values());
  }

  public TenantFeed feed(String tenant) {
    return feeds.get(tenant);
  }

  public Map<String, String> apiKeys() {
    return Map.copyOf(apiKeys);
  }

  public Map<String, String> sources() {
    Map<String, String> out = new LinkedHashMap<>();
    feeds.forEach((t, f) -> out.put(t, f.file().toUri().toString()));
    return out;
  }

  /** The PNG the image host serves for a training image. */
  public byte[] png(int trainingIndex) throws IOException {
    return SampleImageServer.png(dataset.train().image(trainingIndex));
  }

  /**
   * Asks catalog-downloader to sync every tenant now rather than at its next interval. Best
   * effort: while catalog-downloader is down the periodic sync after its restart covers it.
   */
  public List<String> requestSync(URI catalogDownloaderOps) {
    List<String> failures = new ArrayList<>();
    for (String tenant : feeds.keySet()) {
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(catalogDownloaderOps.resolve("/sync?tenant=" + tenant))
            .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.noBody()).build(),
            HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) {
          failures.add(tenant + ": HTTP " + r.statusCode());
        }
      } catch (IOException e) {
        failures.add(tenant + ": " + e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        failures.add(tenant + ": interrupted");
      }
    }
    return failures;
  }

  @Override
  public void close() {
    images.close();
  }
}
