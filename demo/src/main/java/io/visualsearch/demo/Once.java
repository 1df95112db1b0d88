package io.visualsearch.demo;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/** Runs its steps in order the first time it is run, never again; a failing step does not skip the rest. */
final class Once implements Runnable {

  private final List<Runnable> steps;
  private final AtomicBoolean done = new AtomicBoolean();

  Once(Runnable... steps) {
    this.steps = List.of(steps);
  }

  @Override
  public void run() {
    if (!done.compareAndSet(false, true)) {
      return;
    }
    for (Runnable step : steps) {
      try {
        step.run();
      } catch (RuntimeException e) {
        System.err.println("demo: stopping: " + e);
      }
    }
  }
}
