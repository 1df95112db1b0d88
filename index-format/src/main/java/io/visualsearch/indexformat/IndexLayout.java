package io.visualsearch.indexformat;

import java.util.regex.Pattern;

/**
 * Object-store keys of a tenant's published indexes:
 * <pre>
 * indexes/&lt;tenant&gt;/CURRENT                       pointer to the served version (conditional writes)
 * indexes/&lt;tenant&gt;/&lt;version&gt;/manifest.json
 * indexes/&lt;tenant&gt;/&lt;version&gt;/shard-000.faiss ...  plain FAISS files (write_index format)
 * indexes/&lt;tenant&gt;/&lt;version&gt;/skus.tsv           FAISS id TAB sku, one line per vector
 * indexes/&lt;tenant&gt;/&lt;version&gt;/images.tsv         FAISS id TAB image key ({@link ImageKeys})
 * </pre>
 */
public final class IndexLayout {

  private static final Pattern TENANT = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");
  private static final Pattern VERSION = Pattern.compile("[0-9]{8}T[0-9]{6}Z-[0-9a-z]{1,16}");

  private IndexLayout() {}

  public static String validTenant(String tenant) {
    if (tenant == null || !TENANT.matcher(tenant).matches()) {
      throw new IllegalArgumentException("invalid tenant name '" + tenant
          + "': lower-case letters, digits, '-' and '_', at most 63 characters");
    }
    return tenant;
  }

  public static String validVersion(String version) {
    if (version == null || !VERSION.matcher(version).matches()) {
      throw new IllegalArgumentException("invalid index version '" + version + "'");
    }
    return version;
  }

  public static String tenantPrefix(String tenant) {
    return "indexes/" + validTenant(tenant) + "/";
  }

  public static String versionPrefix(String tenant, String version) {
    return tenantPrefix(tenant) + validVersion(version) + "/";
  }

  public static String currentPointer(String tenant) {
    return tenantPrefix(tenant) + "CURRENT";
  }

  public static String manifest(String tenant, String version) {
    return versionPrefix(tenant, version) + "manifest.json";
  }

  public static String file(String tenant, String version, String fileName) {
    if (fileName.contains("/") || fileName.startsWith(".")) {
      throw new IllegalArgumentException("invalid file name in manifest: " + fileName);
    }
    return versionPrefix(tenant, version) + fileName;
  }

  public static String shardFileName(int shard) {
    return String.format("shard-%03d.faiss", shard);
  }

  /** The exact vectors of a quantised shard ({@link ShardVectors}), beside its FAISS file. */
  public static String shardVectorsFileName(int shard) {
    return String.format("shard-%03d.vectors", shard);
  }

  /** The version directory named by a key under the tenant prefix, or null. */
  public static String versionOf(String tenant, String key) {
    String prefix = tenantPrefix(tenant);
    if (!key.startsWith(prefix)) {
      return null;
    }
    String rest = key.substring(prefix.length());
    int slash = rest.indexOf('/');
    if (slash < 0) {
      return null;
    }
    String v = rest.substring(0, slash);
    return VERSION.matcher(v).matches() ? v : null;
  }
}
