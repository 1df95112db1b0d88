package io.visualsearch.pipeline;

/**
 * The record itself can never be handled (malformed payload, broken image, wrong vector size).
 * Its {@link #reason()} is a short code an operator or retailer can act on; it travels to the
 * dead-letter topic with the record. Any other non-retriable exception is treated the same way
 * with reason {@code unexpected-error}.
 */
public class PoisonRecordException extends Exception {

  private final String reason;

  public PoisonRecordException(String reason, String message) {
    super(message);
    this.reason = reason;
  }

  public PoisonRecordException(String reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public String reason() {
    return reason;
  }
}
