package io.visualsearch.searchapi.search;

import io.visualsearch.searchapi.fresh.ProductInfo;

/** One result: the product, how similar it is (higher is closer) and what the storefront shows. */
public record SearchHit(String sku, float score, ProductInfo product) {}
