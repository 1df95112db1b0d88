package io.visualsearch.topics;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The topics every service agrees on (see ARCHITECTURE.md, "Conventions"). */
public final class Topics {

  private static final Map<String, String> COMPACTED = Map.of(
      "cleanup.policy", "compact",
      // Tombstones stay as long as dead letters (a week): a consumer that lags for days (a model
      // rollout's replay of images.ready) still sees the delete, and a letter redriven within its
      // retention still finds the tombstone that replaced its record.
      "delete.retention.ms", "604800000",
      "min.compaction.lag.ms", "60000",
      // These topics are the pipeline's only copy of the catalog: a replica that lost records must
      // never lead, truncating the offsets index versions and consumer groups have recorded.
      "unclean.leader.election.enable", "false");
  private static final Map<String, String> DAYS_7 = Map.of("cleanup.policy", "delete", "retention.ms", "604800000");

  /** Key tenant/sku; value ProductUpsert, or null when the product left the feed. */
  public static final Topic CATALOG_PRODUCTS = new Topic("catalog.products", true, COMPACTED);
  /** Key tenant/sku; value ImageReady, or null. */
  public static final Topic IMAGES_READY = new Topic("images.ready", true, COMPACTED);
  /** Key tenant/sku; value Embedding, or null. */
  public static final Topic EMBEDDINGS = new Topic("embeddings", true, COMPACTED);
  /** Key tenant; value IndexPublished. Compacted: the latest publication per tenant is what matters. */
  public static final Topic INDEX_PUBLISHED = new Topic("index.published", true, COMPACTED);
  /** Key tenant/request-id (one tenant's answers spread over the partitions); value SearchResponseEvent. */
  public static final Topic SEARCH_RESPONSES = new Topic("search.responses", false, DAYS_7);
  /** Key service/instance; value Heartbeat. An hour is all the health page shows. */
  public static final Topic SERVICE_HEALTH = new Topic("service.health", false,
      Map.of("cleanup.policy", "delete", "retention.ms", "7200000"));

  private Topics() {}

  public static List<Topic> pipeline() {
    return List.of(CATALOG_PRODUCTS, IMAGES_READY, EMBEDDINGS, INDEX_PUBLISHED, SEARCH_RESPONSES, SERVICE_HEALTH);
  }

  /** Every topic including the dead-letter topic of each consumed one. */
  public static List<Topic> all() {
    List<Topic> all = new ArrayList<>(pipeline());
    for (Topic t : pipeline()) {
      if (t != SERVICE_HEALTH) {
        all.add(t.dlq());
      }
    }
    return all;
  }

  private static final java.util.regex.Pattern TENANT = java.util.regex.Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");

  /** Keys are tenant/sku: the tenant is everything before the first slash. */
  public static String key(String tenant, String sku) {
    return requireTenant(tenant) + "/" + sku;
  }

  /** Tenant names: lower-case letters, digits, '-' and '_', at most 63 characters. */
  public static String requireTenant(String tenant) {
    if (tenant == null || !TENANT.matcher(tenant).matches()) {
      throw new IllegalArgumentException("invalid tenant name '" + tenant
          + "': lower-case letters, digits, '-' and '_', at most 63 characters");
    }
    return tenant;
  }

  /** Whether {@code name} is a valid tenant name ({@link #requireTenant}'s rule). */
  public static boolean isTenant(String name) {
    return name != null && TENANT.matcher(name).matches();
  }

  /** The tenant of a tenant/sku key, or null when the key has no tenant part. */
  public static String tenantOf(String key) {
    int slash = key == null ? -1 : key.indexOf('/');
    return slash <= 0 ? null : key.substring(0, slash);
  }
}
