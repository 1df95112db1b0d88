package io.visualsearch.objectstore;

/**
 * The store could not do what was asked. {@link #retriable()} tells a caller whether waiting and
 * trying again may help (network, throttling, 5xx) or not (denied, bad request).
 */
public final class ObjectStoreException extends RuntimeException {

  private final boolean retriable;

  public ObjectStoreException(String message, Throwable cause, boolean retriable) {
    super(message, cause);
    this.retriable = retriable;
  }

  public boolean retriable() {
    return retriable;
  }
}
