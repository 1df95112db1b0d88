package io.visualsearch.imageindexer;

import io.visualsearch.pipeline.PoisonRecordException;
import io.visualsearch.topics.SkuSegment;
import io.visualsearch.topics.Topics;

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
    // which, retried like any store failure, would stall a partition for good. The feed refuses
    // such ids by the same rule; this catches records from elsewhere.
    String problem = SkuSegment.problem(sku);
    if (problem != null) {
      throw new PoisonRecordException("invalid-sku", "the sku of " + Rejections.shown(key) + " " + problem);
    }
    return new ProductRef(tenant, sku);
  }

  String key() {
    return tenant + "/" + sku;
  }
}
