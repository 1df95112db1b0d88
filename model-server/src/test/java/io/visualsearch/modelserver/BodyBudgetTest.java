package io.visualsearch.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BodyBudgetTest {

  @Test
  void aShareThatDoesNotFitIsRefusedWholeAndNothingIsHeldForIt() {
    BodyBudget budget = new BodyBudget(100);
    try (BodyBudget.Lease a = budget.lease(); BodyBudget.Lease b = budget.lease()) {
      assertTrue(a.grow(60));
      assertFalse(b.grow(41));
      assertEquals(60, budget.used());
      assertTrue(b.grow(40));
      assertEquals(100, budget.used());
    }
    assertEquals(0, budget.used(), "closing gives every share back");
  }

  @Test
  void aBodyLargerThanTheWholeBudgetRunsOnlyAlone() {
    BodyBudget budget = new BodyBudget(100);
    try (BodyBudget.Lease small = budget.lease()) {
      assertTrue(small.grow(1));
      try (BodyBudget.Lease big = budget.lease()) {
        assertFalse(big.grow(1_000));
      }
    }
    try (BodyBudget.Lease big = budget.lease()) {
      assertTrue(big.grow(1_000));
      assertTrue(big.grow(1_000), "growing a share that already holds everything costs nothing more");
      assertEquals(100, big.held());
      try (BodyBudget.Lease other = budget.lease()) {
        assertFalse(other.grow(1));
      }
    }
    assertEquals(0, budget.used());
  }
}
