package io.visualsearch.modelclient;

/** The model server refused this input (wrong shape, dtype): retrying the same input cannot help. */
public final class ModelRejectedException extends Exception {
  public ModelRejectedException(String message, Throwable cause) {
    super(message, cause);
  }
}
