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
   * Why this component cannot recover without a restart of the process, or null (the usual
   * answer): a worker stuck far past its own bound, a periodic task an Error ended. Cheap and
   * non-blocking, like {@link #check()}, which should fail too meanwhile. /healthz answers 503 with
   * it, so the orchestrator restarts the process: not ready alone only takes a pod out of a
   * service's rotation, which changes nothing for a worker that takes no requests and keeps its
   * Kafka partitions, wedged, for good.
   */
  default String wedged() {
    return null;
  }

  /**
   * Whether a failing {@link #check()} makes the whole service not ready; false for a part that
   * {@link #reportedOnly} wraps.
   */
  default boolean gatesReadiness() {
    return true;
  }

  /**
   * The same component, its check shown in /readyz (marked {@code "gates_readiness":false}) but
   * never making the service unready, on /readyz or in its heartbeat: for a dependency every replica shares, where failing readiness on it
   * takes all of them out of rotation at once, and the requests that need it answer their own
   * error meanwhile (search-api's model client, its RATIONALE.md).
   */
  static Component reportedOnly(Component inner) {
    return new Component() {
      @Override
      public String name() {
        return inner.name();
      }

      @Override
      public void start() throws Exception {
        inner.start();
      }

      @Override
      public CheckResult check() {
        return inner.check();
      }

      @Override
      public String wedged() {
        return inner.wedged();
      }

      @Override
      public boolean gatesReadiness() {
        return false;
      }

      @Override
      public void beginStop() {
        inner.beginStop();
      }

      @Override
      public void close() {
        inner.close();
      }

      @Override
      public String toString() {
        return inner.toString();
      }
    };
  }

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
