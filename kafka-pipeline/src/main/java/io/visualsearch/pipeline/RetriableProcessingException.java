package io.visualsearch.pipeline;

/**
 * The record is fine but something it needs is not (model server down, store unreachable): the
 * loop pauses, backs off and tries the same record again, never skipping it.
 */
public class RetriableProcessingException extends Exception {
  public RetriableProcessingException(String message, Throwable cause) {
    super(message, cause);
  }

  public RetriableProcessingException(String message) {
    super(message);
  }
}
