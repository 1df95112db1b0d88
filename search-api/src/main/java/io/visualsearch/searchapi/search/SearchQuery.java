package io.visualsearch.searchapi.search;

import io.visualsearch.searchapi.image.CropBox;

/** A validated search request, whatever transport it came by (multipart, JSON, gRPC). */
public record SearchQuery(byte[] image, int k, CropBox crop, Filters filters) {

  public static final int MIN_K = 1;
  public static final int MAX_K = 100;
}
