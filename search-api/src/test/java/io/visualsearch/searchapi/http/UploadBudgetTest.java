package io.visualsearch.searchapi.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.visualsearch.searchapi.ApiException;
import org.junit.jupiter.api.Test;

class UploadBudgetTest {

  static final long TEN_MIB = 10L * 1024 * 1024;

  @Test
  void withRoomForThreeUploadsTheFourthIsRefusedAtOnceUntilOneEnds() {
    UploadBudget budget = new UploadBudget(3 * UploadBudget.costOf(TEN_MIB));
    UploadBudget.Reservation first = budget.reserve("acme", UploadBudget.costOf(TEN_MIB));
    budget.reserve("globex", UploadBudget.costOf(TEN_MIB));
    budget.reserve("initech", UploadBudget.costOf(TEN_MIB));
    ApiException refused = assertThrows(ApiException.class, () -> budget.reserve("umbrella", UploadBudget.costOf(TEN_MIB)));
    assertEquals(503, refused.status());
    assertEquals("overloaded", refused.code());
    assertEquals(1, refused.retryAfterSeconds());
    // A small one does not fit either: the budget is spent.
    assertThrows(ApiException.class, () -> budget.reserve("umbrella", UploadBudget.costOf(1024)));
    assertEquals(0, budget.heldBy("umbrella"), "a refusal leaves nothing held");
    first.close();
    first.close();
    assertEquals(UploadBudget.costOf(TEN_MIB), budget.available(), "given back exactly once");
    assertEquals(0, budget.heldBy("acme"));
    budget.reserve("umbrella", UploadBudget.costOf(TEN_MIB));
    assertEquals(0, budget.available());
  }

  @Test
  void oneTenantHoldsAtMostItsShareWhileOthersStillReserve() {
    UploadBudget budget = new UploadBudget(3 * UploadBudget.costOf(TEN_MIB));
    assertEquals((long) (1.5 * UploadBudget.costOf(TEN_MIB)), budget.perTenant());
    UploadBudget.Reservation first = budget.reserve("acme", UploadBudget.costOf(TEN_MIB));
    ApiException refused = assertThrows(ApiException.class, () -> budget.reserve("acme", UploadBudget.costOf(TEN_MIB)));
    assertEquals(503, refused.status());
    assertEquals("tenant_overloaded", refused.code());
    assertEquals(UploadBudget.costOf(TEN_MIB), budget.heldBy("acme"), "a refusal takes nothing");
    budget.reserve("acme", UploadBudget.costOf(TEN_MIB / 2));
    budget.reserve("globex", UploadBudget.costOf(TEN_MIB));
    first.close();
    budget.reserve("acme", UploadBudget.costOf(TEN_MIB));
  }

  @Test
  void aBodyOfUnknownLengthGrowsItsReservationUntilItNoLongerFits() {
    UploadBudget budget = new UploadBudget(1000);
    UploadBudget.Reservation globex = budget.reserve("globex", 400);
    UploadBudget.Reservation initech = budget.reserve("initech", 300);
    UploadBudget.Reservation chunked = budget.open("acme");
    chunked.grow(200);
    assertThrows(ApiException.class, () -> chunked.grow(200), "100 left of the whole budget");
    assertEquals(200, chunked.held(), "a refused growth keeps what was held");
    assertEquals(200, budget.heldBy("acme"), "and takes nothing from the tenant's share");
    chunked.grow(100);
    chunked.close();
    globex.close();
    initech.close();
    assertEquals(1000, budget.available());
    assertEquals(0, budget.heldBy("acme"));
  }

  @Test
  void anUploadLargerThanATenantsShareIsReadAloneNotNever() {
    UploadBudget budget = new UploadBudget(1000);
    UploadBudget.Reservation huge = budget.reserve("acme", 5000);
    assertEquals(500, huge.held());
    assertThrows(ApiException.class, () -> budget.reserve("acme", 1));
    UploadBudget.Reservation other = budget.reserve("globex", 5000);
    assertEquals(500, other.held(), "another tenant still gets its share");
    huge.close();
    other.close();
    UploadBudget.Reservation small = budget.reserve("acme", 10);
    assertThrows(ApiException.class, () -> budget.reserve("acme", 5000), "only when nothing else of the tenant holds it");
    small.close();
  }

  @Test
  void theBudgetIsAQuarterOfTheHeap() {
    assertEquals(384L << 20, UploadBudget.ofHeap(1536L << 20).capacity());
  }
}
