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

  @Test
  void withBothSeparatorsTheLastOneIsTheDecimalSeparator() {
    assertEquals(new BigDecimal("1299"), Money.parse("1.299,00 EUR").amount());
    assertEquals(new BigDecimal("1299"), Money.parse("1,299.00 USD").amount());
    assertEquals(new BigDecimal("1234567.89"), Money.parse("1.234.567,89 EUR").amount());
    assertEquals(new BigDecimal("1234567.89"), Money.parse("USD 1,234,567.89").amount());
    for (String odd : new String[] {"1,2.99 USD", "1.2,99 EUR", "1.299,00,00 EUR", "12,34.56 USD"}) {
      assertThrows(IllegalArgumentException.class, () -> Money.parse(odd), odd);
    }
  }

  @Test
  void aPriceOfHalfAMegabyteOfDigitsIsRefusedUnreadWithAShortMessage() {
    String huge = "9".repeat(520_000) + " USD";
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Money.parse(huge));
    assertTrue(e.getMessage().contains("has an amount of 520000 characters; at most " + Money.MAX_AMOUNT_CHARS),
        e.getMessage().substring(e.getMessage().length() - 80));
    // The longest amount the limit lets through is a real one: 13 grouped digits and 18 decimals.
    String longest = "1,000,000,000,000.000000000000000000";
    assertEquals(Money.MAX_AMOUNT_CHARS, longest.length());
    assertEquals(new BigDecimal("1000000000000"), Money.parse(longest + " USD").amount());
  }
}
