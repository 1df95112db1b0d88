package io.visualsearch.runtime;

/**
 * A long-lived part of a service (consumer, producer, gRPC channel, object-store client, index).
 * The host starts components in order, asks each for {@link #check()} to answer /readyz, and
 * closes them in reverse order exactly once.
 */
public interface Component extends AutoCloseable {

  /** Short name shown in /readyz and logs. */
  String name();

  /** Acquires resources and begins work; throws if the component cannot run. */
  default void start() throws Exception {}

  /** Cheap, non-blocking health answer; a dead worker thread must answer not ready. */
  CheckResult check();

  /**
   * Stops taking new work, at once and without waiting for any: called on every started component
   * when a stop begins, before any is closed. Work already taken is finished (drained) in
   * {@link #close}, which the host calls one component after the other; without this a second
   * consumer loop kept polling, and starting records, while the first drained.
   */
  default void beginStop() {}

  /** Releases everything; called once, after the components started after this one are closed. */
  @Override
  void close();
}
