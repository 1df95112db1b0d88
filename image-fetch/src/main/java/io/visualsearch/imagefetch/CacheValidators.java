package io.visualsearch.imagefetch;

/** ETag / Last-Modified from an earlier fetch, sent as If-None-Match / If-Modified-Since. */
public record CacheValidators(String etag, String lastModified) {

  public static final CacheValidators NONE = new CacheValidators(null, null);

  boolean isEmpty() {
    return etag == null && lastModified == null;
  }
}
