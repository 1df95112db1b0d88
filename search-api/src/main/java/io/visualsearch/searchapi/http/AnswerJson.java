package io.visualsearch.searchapi.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.visualsearch.searchapi.ApiException;
import io.visualsearch.searchapi.search.SearchAnswer;
import io.visualsearch.searchapi.search.SearchHit;

/** The JSON bodies of the public API (see ARCHITECTURE.md, "Public HTTP API of search-api"). */
public final class AnswerJson {

  private final ObjectMapper mapper = new ObjectMapper();

  /** {@code requestId}: the archived answer's id, left out when null (similar items are not archived). */
  public byte[] answer(SearchAnswer answer, String traceId, String requestId) {
    ObjectNode root = mapper.createObjectNode();
    ArrayNode results = root.putArray("results");
    for (SearchHit h : answer.hits()) {
      ObjectNode r = results.addObject();
      r.put("sku", h.sku());
      r.put("score", h.score());
      r.put("title", h.product().title());
      r.put("price", h.product().priceText());
      if (!h.product().currency().isEmpty()) {
        // What to compute with; "price" is for display and its format follows the currency. A
        // string, as protobuf's JSON writes 64-bit integers: past 2^53 a JavaScript number rounds.
        r.put("price_micros", Long.toString(h.product().priceMicros()));
        r.put("currency", h.product().currency().toUpperCase(java.util.Locale.ROOT));
      }
      r.put("link", h.product().link());
      r.put("image_link", h.product().imageLink());
      r.put("category", h.product().category());
      if (!h.product().shownAvailability().isEmpty()) {
        r.put("availability", h.product().shownAvailability());
      }
      if (!h.product().brand().isEmpty()) {
        r.put("brand", h.product().brand());
      }
    }
    root.put("index_version", answer.indexVersion());
    root.put("model_version", answer.modelVersion());
    root.put("trace_id", traceId);
    if (requestId != null) {
      root.put("request_id", requestId);
    }
    return write(root);
  }

  public byte[] error(ApiException e) {
    return error(e.code(), e.getMessage());
  }

  public byte[] error(String code, String message) {
    ObjectNode root = mapper.createObjectNode();
    root.put("error", code);
    root.put("message", message);
    return write(root);
  }

  private byte[] write(ObjectNode node) {
    try {
      return mapper.writeValueAsBytes(node);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("a tree of strings and numbers always serialises", e);
    }
  }
}
