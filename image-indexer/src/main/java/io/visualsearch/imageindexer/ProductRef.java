package io.visualsearch.imageindexer;

import io.visualsearch.pipeline.PoisonRecordException;
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
    return new ProductRef(tenant, key.substring(tenant.length() + 1));
  }

  String key() {
    return tenant + "/" + sku;
  }
}
