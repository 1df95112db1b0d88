package io.visualsearch.modelclient;

/**
 * The call was given up because the request it serves was (its deadline passed, or its caller
 * cancelled it, which the stub inherits): nothing about the model server. A subclass of
 * {@link ModelUnavailableException} so callers that only retry later need no change; a server
 * answering a caller tells it apart, as neither its own failure nor the model server's.
 */
public final class CallerGoneException extends ModelUnavailableException {
  public CallerGoneException(String message, Throwable cause) {
    super(message, cause);
  }
}
