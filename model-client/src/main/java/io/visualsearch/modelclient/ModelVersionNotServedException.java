package io.visualsearch.modelclient;

/**
 * The model server answered that the version a call was pinned to is not served (NOT_FOUND): it
 * was retired, or is not loaded yet. The server itself is up, so this does not make the client
 * unhealthy; a caller holding data of that version waits for data of a served one.
 */
public final class ModelVersionNotServedException extends ModelUnavailableException {

  private final long version;

  public ModelVersionNotServedException(long version, String message, Throwable cause) {
    super(message, cause);
    this.version = version;
  }

  /** The version the call asked for. */
  public long version() {
    return version;
  }
}
