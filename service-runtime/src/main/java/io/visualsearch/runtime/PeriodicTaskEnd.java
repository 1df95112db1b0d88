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
   * Null while {@code task} runs (or was never scheduled); otherwise a sentence beginning with
   * {@code what}: "… died: &lt;the Error&gt;", "… was cancelled" or "… stopped".
   */
  public static String of(Future<?> task, String what) {
    if (task == null || !task.isDone()) {
      return null;
    }
    try {
      task.get();
      return what + " stopped";
    } catch (ExecutionException e) {
      return what + " died: " + e.getCause();
    } catch (CancellationException e) {
      return what + " was cancelled";
    } catch (InterruptedException e) {
      // Unreachable for a task that is done; the caller's thread keeps its interrupt.
      Thread.currentThread().interrupt();
      return what + " stopped";
    }
  }
}
