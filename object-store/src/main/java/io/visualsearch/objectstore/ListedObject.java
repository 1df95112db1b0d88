package io.visualsearch.objectstore;

/**
 * An object as a listing names it: its key and its ETag ("" if the store gave none). Two listings
 * showing one ETag for a key show the same bytes; a rewrite with other bytes changes it.
 */
public record ListedObject(String key, String etag) {}
