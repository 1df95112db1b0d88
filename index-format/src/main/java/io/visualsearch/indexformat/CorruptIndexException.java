package io.visualsearch.indexformat;

/** A published file does not match its manifest (checksum, size, format): never serve it. */
public final class CorruptIndexException extends Exception {
  public CorruptIndexException(String message) {
    super(message);
  }
}
