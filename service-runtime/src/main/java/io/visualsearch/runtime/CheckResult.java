package io.visualsearch.runtime;

/** A component's answer to "can you do your job right now?". */
public record CheckResult(boolean ok, String detail) {

  public static final CheckResult OK = new CheckResult(true, "ok");

  public static CheckResult failed(String detail) {
    return new CheckResult(false, detail);
  }

  public static CheckResult failed(Throwable error) {
    return new CheckResult(false, error.getClass().getSimpleName() + ": " + error.getMessage());
  }
}
