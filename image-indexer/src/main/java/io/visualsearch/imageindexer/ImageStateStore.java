package io.visualsearch.imageindexer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.visualsearch.imagevalidation.NormalisedImage;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.StoredObject;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-product image state at {@code image-state/<tenant>/<sku>} in the object store, so any
 * instance (or a restarted one) knows what was fetched before. The SKU is percent-encoded: it is
 * retailer text and may hold slashes or dots that would otherwise shape the key.
 */
final class ImageStateStore {

  private static final Logger log = LoggerFactory.getLogger(ImageStateStore.class);
  // Unknown fields are ignored so an older instance can read state a newer one wrote.
  private static final ObjectMapper JSON = new ObjectMapper()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  private final ObjectStore store;

  ImageStateStore(ObjectStore store) {
    this.store = store;
  }

  /**
   * The sku is URL-encoded, and a sku of only dots ({@code .}, {@code ..}) has its dots encoded too:
   * as a path segment S3 refuses it (400, which would stall the partition) and other stores
   * resolve it, so every tenant's {@code ..} would share one object.
   */
  static String key(String tenant, String sku) {
    String segment = URLEncoder.encode(sku, StandardCharsets.UTF_8);
    if (segment.equals(".") || segment.equals("..")) {
      segment = segment.replace(".", "%2E");
    }
    return "image-state/" + tenant + "/" + segment;
  }

  Optional<ImageState> get(String tenant, String sku) {
    Optional<StoredObject> o = store.get(key(tenant, sku));
    if (o.isEmpty()) {
      return Optional.empty();
    }
    Optional<ImageState> state = decode(o.get().bytes());
    if (state.isEmpty()) {
      // Unreadable state only costs a fresh download; it must not block the product.
      log.warn("ignoring unreadable image state {}", key(tenant, sku));
    }
    return state;
  }

  void put(String tenant, String sku, ImageState state) {
    store.put(key(tenant, sku), encode(state), "application/json");
  }

  void delete(String tenant, String sku) {
    store.delete(key(tenant, sku));
  }

  static byte[] encode(ImageState state) {
    try {
      return JSON.writeValueAsBytes(state);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("image state is always serialisable", e);
    }
  }

  static Optional<ImageState> decode(byte[] bytes) {
    try {
      ImageState state = JSON.readValue(bytes, ImageState.class);
      return state == null || !NormalisedImage.isSha256(state.sha256())
          || state.imageLink() == null ? Optional.empty() : Optional.of(state);
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
