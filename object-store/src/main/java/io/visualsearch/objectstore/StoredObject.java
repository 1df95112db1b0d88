package io.visualsearch.objectstore;

/** An object's bytes with the ETag to make a conditional update against. */
public record StoredObject(String key, byte[] bytes, String etag, String contentType) {}
