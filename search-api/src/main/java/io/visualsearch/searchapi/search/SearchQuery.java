package io.visualsearch.searchapi.search;

import io.visualsearch.searchapi.ApiException;
import io.visualsearch.searchapi.image.CropBox;

/** A validated search request, whatever transport it came by (multipart, JSON, gRPC). */
public record SearchQuery(byte[] image, int k, CropBox crop, Filters filters) {

  public static final int MIN_K = 1;
  public static final int MAX_K = 100;

  /** {@code k} itself, or a 400 {@code invalid_k} naming the bounds when it is outside them. */
  public static int checkedK(int k) {
    if (k < MIN_K || k > MAX_K) {
      throw ApiException.badRequest("invalid_k", "k must be between " + MIN_K + " and " + MAX_K + ", got " + k);
    }
    return k;
  }
}
