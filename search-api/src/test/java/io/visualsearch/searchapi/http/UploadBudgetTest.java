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
    UploadBudget.Reservation first = budget.reserve(UploadBudget.costOf(TEN_MIB));
    budget.reserve(UploadBudget.costOf(TEN_MIB));
    budget.reserve(UploadBudget.costOf(TEN_MIB));
    ApiException refused = assertThrows(ApiException.class, () -> budget.reserve(UploadBudget.costOf(TEN_MIB)));
    assertEquals(503, refused.status());
    assertEquals("overloaded", refused.code());
    assertEquals(1, refused.retryAfterSeconds());
    // A small one does not fit either: the budget is spent.
    assertThrows(ApiException.class, () -> budget.reserve(UploadBudget.costOf(1024)));
    first.close();
    first.close();
    assertEquals(UploadBudget.costOf(TEN_MIB), budget.available(), "given back exactly once");
    budget.reserve(UploadBudget.costOf(TEN_MIB));
    assertEquals(0, budget.available());
  }

  @Test
  void aBodyOfUnknownLengthGrowsItsReservationUntilItNoLongerFits() {
    UploadBudget budget = new UploadBudget(1000);
    UploadBudget.Reservation other = budget.reserve(400);
    UploadBudget.Reservation chunked = budget.open();
    chunked.grow(300);
    chunked.grow(300);
    assertEquals(600, chunked.held());
    assertThrows(ApiException.class, () -> chunked.grow(1));
    assertEquals(600, chunked.held(), "a refused growth keeps what was held");
    chunked.close();
    other.close();
    assertEquals(1000, budget.available());
  }

  @Test
  void anUploadLargerThanTheWholeBudgetIsReadAloneNotNever() {
    UploadBudget budget = new UploadBudget(1000);
    UploadBudget.Reservation huge = budget.reserve(5000);
    assertEquals(1000, huge.held());
    assertThrows(ApiException.class, () -> budget.reserve(1));
    huge.close();
    UploadBudget.Reservation small = budget.reserve(10);
    assertThrows(ApiException.class, () -> budget.reserve(5000), "only when nothing else holds the budget");
    small.close();
  }

  @Test
  void theBudgetIsAQuarterOfTheHeap() {
    assertEquals(384L << 20, UploadBudget.ofHeap(1536L << 20).capacity());
  }
}
