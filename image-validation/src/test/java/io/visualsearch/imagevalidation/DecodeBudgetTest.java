package io.visualsearch.imagevalidation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class DecodeBudgetTest {

  @Test
  void aDecodeThatDoesNotFitWaitsUntilAnotherGivesItsPixelsBack() throws Exception {
    DecodeBudget budget = new DecodeBudget(100_000_000);
    DecodeBudget.Grant first = budget.acquire(60_000_000);
    AtomicBoolean secondDecoding = new AtomicBoolean();
    Thread second = new Thread(() -> {
      try (DecodeBudget.Grant ignored = budget.acquire(60_000_000)) {
        secondDecoding.set(true);
      }
    });
    second.start();
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (second.getState() != Thread.State.WAITING && System.nanoTime() < giveUp) {
      Thread.onSpinWait();
    }
    assertEquals(Thread.State.WAITING, second.getState(), "the second decode waits for pixels");
    assertFalse(secondDecoding.get());

    first.close();
    second.join(TimeUnit.SECONDS.toMillis(30));
    assertTrue(secondDecoding.get());
    assertEquals(100_000_000, budget.availablePixels(), "every pixel is back");
  }

  @Test
  void theValidatorDecodesOnlyWithinItsBudget() throws Exception {
    DecodeBudget budget = new DecodeBudget(50_000_000);
    ImageValidator validator = new ImageValidator(ValidationPolicy.defaults(), budget);
    DecodeBudget.Grant everything = budget.acquire(50_000_000);
    AtomicReference<ValidationResult> result = new AtomicReference<>();
    Thread worker = new Thread(() -> result.set(validator.validate(HostileImages.png(HostileImages.marker(64, 48)))));
    worker.start();
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (worker.getState() != Thread.State.WAITING && System.nanoTime() < giveUp) {
      Thread.onSpinWait();
    }
    assertNull(result.get(), "no pixels left: the image waits before decoding");
    everything.close();
    worker.join(TimeUnit.SECONDS.toMillis(30));
    assertInstanceOf(ValidationResult.Accepted.class, result.get());
    assertEquals(50_000_000, budget.availablePixels());
  }

  @Test
  void smallDecodesShareTheBudgetAndOneLargerThanAllOfItRunsAlone() {
    DecodeBudget budget = new DecodeBudget(50_000_000);
    try (DecodeBudget.Grant a = budget.acquire(12_000_000); DecodeBudget.Grant b = budget.acquire(12_000_000)) {
      assertEquals(26_000_000, budget.availablePixels());
    }
    DecodeBudget.Grant huge = budget.acquire(400_000_000);
    assertEquals(0, budget.availablePixels(), "it took the whole budget, not more than there is");
    huge.close();
    huge.close();
    assertEquals(50_000_000, budget.availablePixels(), "closing twice gives back once");
    assertThrows(IllegalArgumentException.class, () -> new DecodeBudget(0));
  }
}
