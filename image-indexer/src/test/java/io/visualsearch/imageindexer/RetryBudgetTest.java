package io.visualsearch.imageindexer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RetryBudgetTest {

  @Test
  void aRecordIsGivenUpOnAtItsLastRound() {
    RetryBudget budget = new RetryBudget(3);
    assertFalse(budget.spend("catalog.products-0@7"));
    assertFalse(budget.spend("catalog.products-0@7"));
    assertEquals(2, budget.rounds("catalog.products-0@7"));
    assertTrue(budget.spend("catalog.products-0@7"));
    assertEquals(0, budget.rounds("catalog.products-0@7"), "a given-up record leaves no trace");
  }

  @Test
  void recordsHaveSeparateBudgets() {
    RetryBudget budget = new RetryBudget(2);
    assertFalse(budget.spend("t-0@1"));
    assertFalse(budget.spend("t-0@2"));
    assertTrue(budget.spend("t-0@1"));
    assertTrue(budget.spend("t-0@2"));
  }

  @Test
  void successForgetsEarlierFailures() {
    RetryBudget budget = new RetryBudget(2);
    assertFalse(budget.spend("t-0@1"));
    budget.forget("t-0@1");
    assertFalse(budget.spend("t-0@1"));
  }

  @Test
  void zeroMeansRetryForEver() {
    RetryBudget budget = new RetryBudget(0);
    for (int i = 0; i < 1_000; i++) {
      assertFalse(budget.spend("t-0@1"));
    }
  }
}
