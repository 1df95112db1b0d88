package io.visualsearch.objectstore;

import java.time.Instant;

/**
 * An object as a listing names it: its key, its ETag ("" if the store gave none) and when it was
 * last written, by the store's clock. Two listings showing one ETag for a key show the same bytes;
 * a rewrite with other bytes changes it.
 */
public record ListedObject(String key, String etag, Instant lastModified) {}
