package io.visualsearch.searchapi.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.visualsearch.searchapi.ApiException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class AdmissionTest {

  @Test
  void oneTenantHoldsAtMostItsShareAndTheOthersAreStillAdmitted() {
    Admission admission = new Admission(4, 0, 2, Duration.ofMillis(10));
    Admission.Permit a1 = admission.enter("acme");
    Admission.Permit a2 = admission.enter("acme");
    ApiException refused = assertThrows(ApiException.class, () -> admission.enter("acme"));
    assertEquals(503, refused.status());
    assertEquals("tenant_overloaded", refused.code());
    Admission.Permit g1 = admission.enter("globex");
    Admission.Permit g2 = admission.enter("globex");
    a1.close();
    a1.close(); // once only: a second close must not give acme a third place
    Admission.Permit a3 = admission.enter("acme");
    assertEquals("tenant_overloaded", assertThrows(ApiException.class, () -> admission.enter("acme")).code());
    a2.close();
    a3.close();
    g1.close();
    g2.close();
  }

  @Test
  void aTenantRefusedByTheSharedLimitGivesItsPlaceBack() {
    Admission admission = new Admission(2, 0, 2, Duration.ofMillis(10));
    Admission.Permit g1 = admission.enter("globex");
    Admission.Permit g2 = admission.enter("globex");
    assertEquals("overloaded", assertThrows(ApiException.class, () -> admission.enter("acme")).code());
    assertEquals("overloaded", assertThrows(ApiException.class, () -> admission.enter("acme")).code());
    g1.close();
    g2.close();
    // Both refusals gave acme's places back: it can hold its two.
    try (Admission.Permit a1 = admission.enter("acme"); Admission.Permit a2 = admission.enter("acme")) {
      assertEquals("tenant_overloaded", assertThrows(ApiException.class, () -> admission.enter("acme")).code());
    }
  }

  @Test
  void aFreedSlotGoesToTheQueuedSearchNotToANewcomer() throws Exception {
    // The queued search's wait is long: it is given the slot, or refused when a newcomer took it.
    Admission admission = new Admission(1, 1, 10, Duration.ofSeconds(30));
    Admission.Permit running = admission.enter("acme");
    Entering queued = Entering.start(admission, "globex", () -> { });
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (queued.thread().getState() != Thread.State.TIMED_WAITING && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertEquals(Thread.State.TIMED_WAITING, queued.thread().getState(), "the second search waits for the slot");

    // A request thread ends its search and takes the next at once, most often before the queued
    // search has woken to take the slot it is owed.
    Entering newcomer = Entering.start(admission, "initech", running::close);

    Admission.Permit owed = queued.permit().get(60, TimeUnit.SECONDS);
    owed.close();
    // The newcomer was refused, or queued behind and given the slot once it was free.
    try {
      newcomer.permit().get(60, TimeUnit.SECONDS).close();
    } catch (ExecutionException e) {
      assertEquals("overloaded", assertInstanceOf(ApiException.class, e.getCause()).code());
    }
  }

  /** A search entering admission on a thread of its own (after {@code first}), which may wait there. */
  private record Entering(Thread thread, CompletableFuture<Admission.Permit> permit) {
    static Entering start(Admission admission, String tenant, Runnable first) {
      CompletableFuture<Admission.Permit> permit = new CompletableFuture<>();
      Thread thread = new Thread(() -> {
        first.run();
        try {
          permit.complete(admission.enter(tenant));
        } catch (RuntimeException e) {
          permit.completeExceptionally(e);
        }
      });
      thread.start();
      return new Entering(thread, permit);
    }
  }
}
