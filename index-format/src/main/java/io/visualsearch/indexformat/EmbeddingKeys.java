package io.visualsearch.indexformat;

/**
 * An embeddings record's key, {@code tenant/sku}, names its product. A payload's own tenant or sku,
 * when set, must agree: the index-builder dead-letters a record whose payload names another, and
 * the topic's other readers skip it the same way, so each holds what the index holds.
 */
public final class EmbeddingKeys {

  private EmbeddingKeys() {}

  /** Whether a payload field ({@code payload}, empty when not set) agrees with the key's part. */
  public static boolean agrees(String payload, String fromKey) {
    return payload.isEmpty() || payload.equals(fromKey);
  }
}
