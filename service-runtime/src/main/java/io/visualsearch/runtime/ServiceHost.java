package io.visualsearch.runtime;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import sun.misc.Signal;
import org.slf4j.LoggerFactory;

/**
 * Runs one service: starts its components in order (intake last), waits, and on stop closes them
 * in reverse order exactly once — every intake stops at once ({@link Component#beginStop}), then
 * work drains, producers flush, clients close. A component that dies ({@link #fail}) stops the whole process with {@link ExitCode#FAILED}
 * so a supervisor restarts it instead of leaving a half-alive service.
 */
public final class ServiceHost implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ServiceHost.class);

  private final String service;
  private final List<Component> components = new ArrayList<>();
  /** Guards starting and the list of started components, so a stop sees each start whole. */
  private final List<Component> started = new ArrayList<>();
  private final AtomicBoolean stopping = new AtomicBoolean();
  private final CountDownLatch stopped = new CountDownLatch(1);
  /** Completed with {@link #stopped}, for waiting on the stop and a start at once. */
  private final CompletableFuture<Void> stoppedSignal = new CompletableFuture<>();
  private volatile ExitCode exitCode = ExitCode.OK;
  /** When the stop began ({@link System#nanoTime}); meaningful once {@link #stopping} is set. */
  private volatile long stopBeganNanos;
  private volatile Duration stopLimit;

  public ServiceHost(String service) {
    this.service = service;
  }

  /**
   * Bounds the whole stop: components still closing after {@code limit} are left behind and the
   * service ends with {@link ExitCode#STOP_TIMED_OUT} (their in-flight work, uncommitted, is
   * redelivered). Without it a stop waits for every component, however long a batch runs, and an
   * orchestrator's grace period ends it with SIGKILL instead, traces unflushed.
   */
  public ServiceHost stopWithin(Duration limit) {
    this.stopLimit = limit;
    return this;
  }

  /** Adds a component; components start in the order added. */
  public <C extends Component> C add(C component) {
    components.add(component);
    return component;
  }

  public List<Component> components() {
    return Collections.unmodifiableList(components);
  }

  public String service() {
    return service;
  }

  /**
   * Starts everything; on a start failure closes what started and throws. A stop requested
   * meanwhile (a signal, a component's {@link #fail}) waits for the component starting then, and
   * no later one starts: the intake, added last, would otherwise run on against closed producers.
   */
  public void start() throws ServiceStartException {
    for (Component c : components) {
      Throwable failure = null;
      synchronized (started) {
        if (stopping.get()) {
          log.info("{}: stop requested while starting; {} and the components after it not started", service,
              c.name());
          return;
        }
        try {
          log.info("{}: starting {}", service, c.name());
          c.start();
          started.add(c);
        } catch (Exception | Error e) {
          // An Error too (a native library that does not load: UnsatisfiedLinkError): the start
          // failed, and what started must close, with the start failure's exit code.
          failure = e;
        }
      }
      if (failure != null) {
        exitCode = ExitCode.START_FAILED;
        close();
        throw new ServiceStartException(service + ": " + c.name() + " failed to start: " + failure.getMessage(), failure);
      }
    }
    log.info("{}: started {} components", service, components.size());
  }

  /**
   * Starts everything, then waits for the stop, and returns how the service ended. The start runs
   * on its own thread so that a stop requested meanwhile (SIGTERM during a replay of minutes) is
   * bounded by {@link #stopWithin} like any other: {@link #start} itself waits for the component
   * starting then, and {@code main}, waiting there, outlived the stop limit until the
   * orchestrator's SIGKILL.
   */
  public ExitCode startAndAwaitStop() throws ServiceStartException, InterruptedException {
    CompletableFuture<Void> starting = new CompletableFuture<>();
    Thread starter = new Thread(() -> {
      try {
        start();
        starting.complete(null);
      } catch (Throwable e) {
        starting.completeExceptionally(e);
      }
    }, service + "-start");
    starter.setDaemon(true);
    starter.start();
    try {
      // Ends with the start (its failure thrown from here) or with a stop that gave up on it.
      CompletableFuture.anyOf(starting, stoppedSignal).get();
      // A failed start stops the host itself before it throws: its failure is still the answer.
      if (!starting.isDone() && exitCode != ExitCode.START_FAILED) {
        log.error("{}: stopped while a component was still starting ({})", service, exitCode);
        return exitCode;
      }
      starting.get();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof ServiceStartException failed) {
        throw failed;
      }
      if (cause instanceof Error error) {
        throw error;
      }
      throw cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
    }
    return awaitStop();
  }

  /** Whether the service is stopping (or stopped) because a component failed, not on request. */
  public boolean failed() {
    return exitCode == ExitCode.FAILED || exitCode == ExitCode.START_FAILED;
  }

  /** Called by a component whose worker died: the process must not limp on. */
  public void fail(Component who, Throwable error) {
    log.error("{}: {} failed, stopping the service", service, who.name(), error);
    exitCode = ExitCode.FAILED;
    Thread t = new Thread(this::close, service + "-stop");
    t.start();
  }

  /**
   * Called by a component that gave up work in hand at the drain's limit, or died draining it (its
   * records are handled again after the restart): the stop was not the clean drain exit code 0
   * says, so it ends with {@link ExitCode#STOP_TIMED_OUT}, unless it already ends worse.
   */
  public void drainCutShort(Component who, String what) {
    log.warn("{}: {} did not drain in time: {}", service, who.name(), what);
    if (exitCode == ExitCode.OK) {
      exitCode = ExitCode.STOP_TIMED_OUT;
    }
  }

  /** Blocks until the service has stopped; returns how it ended. */
  public ExitCode awaitStop() throws InterruptedException {
    stopped.await();
    return exitCode;
  }

  public boolean awaitStop(Duration timeout) throws InterruptedException {
    return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * SIGTERM and SIGINT stop the service in order, and {@code main} then exits with the code that
   * says how the stop went (OK, STOP_TIMED_OUT). Left to the JVM's shutdown hooks, the process
   * ends with 128 + the signal (143) whatever happened: main's System.exit waits behind the hooks
   * the signal started, and the JVM halts with the signal's status. Where the JVM reserves a
   * signal (-Xrs), the shutdown hook still stops the service.
   */
  public ServiceHost stopOnSignals() {
    for (String name : List.of("TERM", "INT")) {
      try {
        Signal.handle(new Signal(name), s -> new Thread(this::close, service + "-stop-" + name).start());
      } catch (IllegalArgumentException e) {
        log.warn("{}: SIG{} is reserved by the JVM; its shutdown hook stops the service ({})", service, name,
            e.getMessage());
      }
    }
    return this;
  }

  /** Installs a JVM shutdown hook (SIGTERM, Ctrl-C) that stops the service in order. */
  public ServiceHost stopOnShutdown() {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      close();
      try {
        stopped.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, service + "-shutdown"));
    return this;
  }

  /**
   * When the stop began, empty while the service runs: the components that drain work share the
   * stop's time from this moment, so a second one to close does not start its own allowance.
   */
  public OptionalLong stopBegan() {
    return stopping.get() ? OptionalLong.of(stopBeganNanos) : OptionalLong.empty();
  }

  /**
   * What is left of {@code allowance} (e.g. SERVICE_SHUTDOWN_TIMEOUT) for draining, counted from when
   * the stop began; the whole allowance while the service runs. Components that drain one after
   * the other share it instead of each waiting the whole of it.
   */
  public Duration stopTimeLeft(Duration allowance) {
    OptionalLong began = stopBegan();
    if (began.isEmpty()) {
      return allowance;
    }
    Duration left = allowance.minusNanos(System.nanoTime() - began.getAsLong());
    return left.isNegative() ? Duration.ZERO : left;
  }

  @Override
  public void close() {
    long now = System.nanoTime();
    if (!stopping.compareAndSet(false, true)) {
      return;
    }
    // Written before any component is closed: their close() reads it.
    stopBeganNanos = now;
    Duration limit = stopLimit;
    if (limit == null) {
      closeAll();
      return;
    }
    Thread closer = new Thread(this::closeAll, service + "-close");
    closer.setDaemon(true);
    closer.start();
    try {
      closer.join(Math.max(1, limit.toMillis()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (closer.isAlive()) {
      if (exitCode == ExitCode.OK) {
        exitCode = ExitCode.STOP_TIMED_OUT;
      }
      log.error("{}: still closing after {}, stopping without waiting further ({})", service, limit, exitCode);
      markStopped();
    }
  }

  private void closeAll() {
    List<Component> toClose;
    // Waits for a component starting now: it is closed with the others, in order.
    synchronized (started) {
      toClose = new ArrayList<>(started);
    }
    Collections.reverse(toClose);
    try {
      // Every intake stops at once; then each drains and closes in turn.
      for (Component c : toClose) {
        try {
          c.beginStop();
        } catch (RuntimeException | Error e) {
          log.warn("{}: {} did not stop taking work cleanly", service, c.name(), e);
        }
      }
      for (Component c : toClose) {
        try {
          log.info("{}: closing {}", service, c.name());
          c.close();
        } catch (RuntimeException | Error e) {
          // An Error too: the components after it must still close (producers flushed, the ops
          // port down), and the stop must end, or main waits for it forever.
          log.warn("{}: {} did not close cleanly", service, c.name(), e);
        }
      }
      log.info("{}: stopped ({})", service, exitCode);
    } finally {
      markStopped();
    }
  }

  private void markStopped() {
    stopped.countDown();
    stoppedSignal.complete(null);
  }
}
