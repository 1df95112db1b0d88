package io.visualsearch.catalogfeed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

class MoneyTest {

  @Test
  void floatExportNoiseIsRoundedToMicroUnits() {
    Money m = Money.parse("12.990000000000002 USD");
    assertEquals(new BigDecimal("12.99"), m.amount());
    assertEquals(Money.parse("12.99 USD"), m);
    assertEquals(new BigDecimal("0.000001"), Money.parse("0.0000005000001 EUR").amount());
    // Every accepted amount converts to micro-units exactly, as the catalog events carry it.
    assertEquals(12_990_000L, m.amount().movePointRight(6).longValueExact());
  }

  @Test
  void anAmountTooLargeForAnyCatalogIsARowErrorNotAnOverflow() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Money.parse("99999999999999 USD"));
    assertTrue(e.getMessage().contains("99999999999999"), e.getMessage());
    assertEquals(1_000_000_000_000_000_000L,
        Money.parse("1000000000000 USD").amount().movePointRight(6).longValueExact(), "the largest still fits");
  }
}
