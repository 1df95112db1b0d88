package io.visualsearch.imageindexer;

import io.visualsearch.pipeline.PoisonRecordException;
import io.visualsearch.topics.Topics;
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
    // The sku becomes an object-store key segment here and downstream: S3 answers a key over its
    // limit with 400, which, retried like any store failure, would stall a partition for good.
    int keyBytes = ImageStateStore.key(tenant, sku).getBytes(StandardCharsets.UTF_8).length;
    if (keyBytes > MAX_STATE_KEY_BYTES) {
      throw new PoisonRecordException("invalid-sku", "the sku of " + Rejections.shown(key) + " makes an object-store"
          + " key of " + keyBytes + " bytes, over the " + MAX_STATE_KEY_BYTES + " allowed: shorten the id");
    }
    return new ProductRef(tenant, sku);
  }

  /**
   * S3's limit on an object key (1024 UTF-8 bytes), less room for the keys derived from the same sku
   * downstream, which are a few bytes longer (response-consumer's {@code similar/<tenant>/<sku>.json}).
   */
  static final int MAX_STATE_KEY_BYTES = 1024 - 16;

  String key() {
    return tenant + "/" + sku;
  }
}
