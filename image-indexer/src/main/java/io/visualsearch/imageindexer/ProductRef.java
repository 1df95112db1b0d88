package io.visualsearch.imageindexer;

import io.visualsearch.pipeline.PoisonRecordException;
import io.visualsearch.topics.Topics;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/** The product a catalog.products record is about, from its {@code tenant/sku} key. */
record ProductRef(String tenant, String sku) {

  static ProductRef fromKey(String key) throws PoisonRecordException {
    String tenant = Topics.tenantOf(key);
    if (tenant == null || key.length() == tenant.length() + 1) {
      throw new PoisonRecordException("missing-key", "catalog.products record without a tenant/sku key: '"
          + (key == null ? "" : Rejections.shown(key)) + "'");
    }
    try {
      Topics.requireTenant(tenant); // the tenant becomes part of object-store keys
    } catch (IllegalArgumentException e) {
      throw new PoisonRecordException("invalid-tenant", e.getMessage(), e);
    }
    String sku = key.substring(tenant.length() + 1);
    // The sku becomes an object-store key segment here and downstream (image-state/<tenant>/<sku>,
    // similar/<tenant>/<sku>.json). A store answers a segment or key over its limits with 400,
    // which, retried like any store failure, would stall a partition for good.
    int segmentBytes = URLEncoder.encode(sku, StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8).length;
    if (segmentBytes > MAX_SKU_SEGMENT_BYTES) {
      throw new PoisonRecordException("invalid-sku", "the sku of " + Rejections.shown(key) + " is " + segmentBytes
          + " bytes once URL-encoded for object-store keys, over the " + MAX_SKU_SEGMENT_BYTES + " allowed: shorten"
          + " the id");
    }
    return new ProductRef(tenant, sku);
  }

  /**
   * MinIO refuses a key segment over 255 bytes (S3 a whole key over 1024, which a 63-character tenant
   * and this segment stay well under), less the {@code .json} of the similar-items file.
   */
  static final int MAX_SKU_SEGMENT_BYTES = 250;

  String key() {
    return tenant + "/" + sku;
  }
}
