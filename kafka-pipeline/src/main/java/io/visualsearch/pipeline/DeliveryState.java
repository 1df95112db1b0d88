package io.visualsearch.pipeline;

import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;

/**
 * Whether the last record a component sent on the side of its work (a heartbeat, an answered
 * search) was delivered, for its {@code check()}; logs when deliveries start failing and when
 * they succeed again, never once per record: a broker refusing a topic's writes logged a warning
 * per record, hundreds a second.
 */
public final class DeliveryState {

  private final Logger log;
  private final String failing;
  private final String recovered;
  /** Why the last send failed, null once one succeeds. */
  private final AtomicReference<String> lastFailure = new AtomicReference<>();

  /**
   * @param failing what it means that records are not delivered, logged as a warning with the
   *     first failure's reason
   * @param recovered logged when a record is delivered again
   */
  public DeliveryState(Logger log, String failing, String recovered) {
    this.log = log;
    this.failing = failing;
    this.recovered = recovered;
  }

  /** Notes a send the broker acknowledged. */
  public void delivered() {
    if (lastFailure.get() == null) {
      return; // the common case, without the lock
    }
    // The producer's callbacks and a refusal at send() run on different threads: a change of
    // state and its log line are one step, so the log's last word is the state's.
    synchronized (this) {
      if (lastFailure.getAndSet(null) != null) {
        log.info(recovered);
      }
    }
  }

  /** Notes a send refused or failed. */
  public void failed(Throwable error) {
    String reason = error.getClass().getSimpleName() + ": " + error.getMessage();
    synchronized (this) {
      if (lastFailure.getAndSet(reason) == null) {
        log.warn("{}: {}", failing, reason);
      }
    }
  }

  /** Why the last send failed, or null when it was delivered (or none was sent yet). */
  public String lastFailure() {
    return lastFailure.get();
  }
}
