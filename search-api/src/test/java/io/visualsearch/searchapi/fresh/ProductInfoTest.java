package io.visualsearch.searchapi.fresh;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ProductInfoTest {

  static String price(long micros, String currency) {
    return new ProductInfo("sku", "title", micros, currency, "", "", "", "", "").priceText();
  }

  @Test
  void amountsHaveTheirCurrencysMinorUnits() {
    assertEquals("12.50 USD", price(12_500_000L, "USD"));
    assertEquals("1500 JPY", price(1_500_000_000L, "JPY"));
    assertEquals("12.345 KWD", price(12_345_000L, "KWD"));
    assertEquals("12.35 EUR", price(12_345_000L, "eur"), "rounded half up; the code upper-cased");
    assertEquals("1235 JPY", price(1_234_500_000L, "JPY"));
  }

  @Test
  void unknownAndPseudoCurrenciesKeepTwoDecimals() {
    assertEquals("3.00 ZZZ", price(3_000_000L, "ZZZ"));
    assertEquals("1800.00 XAU", price(1_800_000_000L, "XAU"));
    assertEquals("3.00 DOLLARS", price(3_000_000L, "dollars"));
    assertEquals("3.00", price(3_000_000L, ""));
  }

  @Test
  void noPriceIsEmpty() {
    assertEquals("", price(0, ""));
  }
}
