package io.visualsearch.runtime;

import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/**
 * Why a task scheduled at a fixed rate or delay is no longer running, for a component's
 * {@code check()}. Such a task catches its exceptions and carries on, but an Error (out of
 * memory, a stack overflow) ends it for good, and the executor says nothing: its thread then
 * idles while the component looks ready, doing none of the periodic work.
 */
public final class PeriodicTaskEnd {

  private PeriodicTaskEnd() {}

  /**
   * Null while {@code task} runs, was never scheduled, or was cancelled (its owner stopping it: an
   * executor shut down cancels its periodic tasks); otherwise a sentence beginning with
   * {@code what}: "… died: &lt;the Error&gt;" or "… stopped".
   */
  public static String of(Future<?> task, String what) {
    if (task == null || !task.isDone() || task.isCancelled()) {
      return null;
    }
    try {
      task.get();
      return what + " stopped";
    } catch (ExecutionException e) {
      return what + " died: " + e.getCause();
    } catch (CancellationException e) {
      return null; // cancelled since the check above
    } catch (InterruptedException e) {
      // A done task's result is there without waiting; the caller keeps its interrupt.
      Thread.currentThread().interrupt();
      return null;
    }
  }
}
