package io.visualsearch.runtime;

/** Distinct process exit codes, so a supervisor can tell a bad deployment from a crash. */
public enum ExitCode {
  /** Stopped on request (SIGTERM / Ctrl-C) after a clean drain. */
  OK(0),
  /** The environment does not describe a runnable service; fix the configuration. */
  CONFIG_ERROR(2),
  /**
   * A component could not start (endpoint unreachable, port taken, model missing). Not 3: that is
   * the JVM's own exit on an OutOfMemoryError under {@code -XX:+ExitOnOutOfMemoryError}, which the
   * images run with, and a heap problem must not read as a configuration one.
   */
  START_FAILED(6),
  /** A component died while running; restart the process. */
  FAILED(4),
  /**
   * Stopped on request, but components were still closing at the stop's limit, or gave up work in
   * hand at the drain's or died draining it; their work is redelivered.
   */
  STOP_TIMED_OUT(5);

  private final int code;

  ExitCode(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }
}
