package io.visualsearch.catalogdownloader;

import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigException;
import io.visualsearch.objectstore.ObjectStoreSettings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which s3:// and file:// feeds this deployment may read. Feed URLs are onboarded as retailers send
 * them, and both schemes are read with the service's own access (the deployment's S3 credentials,
 * its file system), so a URL alone must not reach another tenant's feed or the deployment's data.
 */
record FeedRules(String deploymentBucket, boolean s3PerTenantPrefix, Path fileRoot) {

  private static final Logger log = LoggerFactory.getLogger(FeedRules.class);

  static FeedRules of(Config config) {
    String root = config.get(CatalogDownloaderSettings.FILE_FEED_ROOT);
    return new FeedRules(config.get(ObjectStoreSettings.BUCKET),
        config.get(CatalogDownloaderSettings.S3_FEEDS_PER_TENANT_PREFIX),
        root == null ? null : Path.of(root).normalize());
  }

  /**
   * @throws ConfigException naming every feed these rules refuse; logs a warning when file:// feeds
   *     are read with no CATALOG_FILE_FEED_ROOT to keep them in
   */
  void require(List<FeedLocation> feeds) {
    require(feeds, CatalogDownloaderSettings.SOURCES.env());
  }

  /** As {@link #require(List)}, each problem introduced by {@code origin} (where the feeds were given). */
  void require(List<FeedLocation> feeds, String origin) {
    List<String> problems = new ArrayList<>();
    feeds.forEach(feed -> problem(feed).ifPresent(p -> problems.add(origin + ": " + p)));
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    if (fileRoot == null && feeds.stream().anyMatch(f -> f.uri().getScheme().equals("file"))) {
      log.warn("file:// feeds are read from any path this service can read: set {} to the directory feeds are"
          + " delivered to", CatalogDownloaderSettings.FILE_FEED_ROOT.env());
    }
  }

  static boolean isRootPath(String path) {
    try {
      return Path.of(path).isAbsolute();
    } catch (java.nio.file.InvalidPathException e) {
      return false;
    }
  }

  /** Why {@code feed} may not be read, or empty. */
  Optional<String> problem(FeedLocation feed) {
    String spec = feed.tenant() + "=" + feed.display();
    return switch (feed.uri().getScheme()) {
      case "s3" -> s3Problem(feed).map(p -> spec + ": " + p);
      case "file" -> fileProblem(feed).map(p -> spec + ": " + p);
      default -> Optional.empty(); // http(s): the fetcher refuses non-public addresses it was not given
    };
  }

  private Optional<String> s3Problem(FeedLocation feed) {
    String bucket = feed.uri().getHost();
    if (bucket.equalsIgnoreCase(deploymentBucket)) {
      return Optional.of("the feed is in this deployment's own bucket (" + ObjectStoreSettings.BUCKET.env() + "="
          + deploymentBucket + "), which holds every tenant's catalog state, images and indexes; deliver feeds to"
          + " another bucket");
    }
    String key = feed.uri().getPath().substring(1);
    if (s3PerTenantPrefix && (!key.startsWith(feed.tenant() + "/")
        || Arrays.stream(key.split("/", -1)).anyMatch(s -> s.equals(".") || s.equals("..")))) {
      return Optional.of(CatalogDownloaderSettings.S3_FEEDS_PER_TENANT_PREFIX.env() + " is true: the key must be under "
          + feed.tenant() + "/ (s3://" + bucket + "/" + feed.tenant() + "/...), without . or .. segments");
    }
    return Optional.empty();
  }

  private Optional<String> fileProblem(FeedLocation feed) {
    if (fileRoot == null) {
      return Optional.empty();
    }
    String raw = feed.uri().getPath(); // null for file:relative
    Path path = raw == null ? null : Path.of(raw).normalize(); // ../ (or %2e%2e once decoded) climbs out
    if (path == null || feed.uri().getRawAuthority() != null || !path.startsWith(fileRoot) || path.equals(fileRoot)) {
      return Optional.of("not a file under " + CatalogDownloaderSettings.FILE_FEED_ROOT.env() + "=" + fileRoot);
    }
    return Optional.empty();
  }
}
