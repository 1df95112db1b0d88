package io.visualsearch.runtime;

/** A component could not start; the message names the service and the component. */
public final class ServiceStartException extends Exception {
  public ServiceStartException(String message, Throwable cause) {
    super(message, cause);
  }
}
