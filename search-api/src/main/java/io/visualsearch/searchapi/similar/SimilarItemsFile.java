package io.visualsearch.searchapi.similar;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.visualsearch.indexformat.IndexLayout;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Contents of {@code similar/<tenant>/<sku>.json}, written by response-consumer after each index
 * publication and read by search-api. Scores follow the index's metric (higher is closer).
 */
public record SimilarItemsFile(
    @JsonProperty("tenant") String tenant,
    @JsonProperty("sku") String sku,
    @JsonProperty("index_version") String indexVersion,
    @JsonProperty("model_version") long modelVersion,
    @JsonProperty("computed_at_ms") long computedAtMs,
    @JsonProperty("results") List<Item> results) {

  public record Item(@JsonProperty("sku") String sku, @JsonProperty("score") float score) {}

  /** The object key; the sku is URL-encoded so a '/' or '..' in a sku cannot escape the tenant's prefix. */
  public static String key(String tenant, String sku) {
    return "similar/" + IndexLayout.validTenant(tenant) + "/" + URLEncoder.encode(sku, StandardCharsets.UTF_8) + ".json";
  }
}
