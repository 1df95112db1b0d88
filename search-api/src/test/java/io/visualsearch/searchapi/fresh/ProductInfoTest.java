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

  private static final long FRIDAY = java.time.Instant.parse("2025-11-28T08:00:00Z").toEpochMilli();
  private static final long MONDAY = java.time.Instant.parse("2025-12-02T08:00:00Z").toEpochMilli();

  private static io.visualsearch.proto.events.Product coat(long saleStartMs, long saleEndMs) {
    return io.visualsearch.proto.events.Product.newBuilder().setId("coat").setTitle("Coat")
        .setPrice(io.visualsearch.proto.events.Money.newBuilder().setAmountMicros(39_990_000).setCurrency("USD"))
        .setSalePrice(io.visualsearch.proto.events.Money.newBuilder().setAmountMicros(19_990_000).setCurrency("USD"))
        .setSalePriceStartMs(saleStartMs).setSalePriceEndMs(saleEndMs).build();
  }

  @Test
  void aSalePriceIsThePriceOnlyInsideItsWindow() {
    ProductInfo p = ProductInfo.of("coat", coat(FRIDAY, MONDAY));
    assertEquals("39.99 USD", p.at(FRIDAY - 7 * 86_400_000L).priceText(), "loaded a week ahead: not yet");
    assertEquals(19_990_000, p.at(FRIDAY).priceMicros());
    assertEquals("19.99 USD", p.at(MONDAY - 1).priceText());
    assertEquals("39.99 USD", p.at(MONDAY).priceText(), "over");
    assertEquals("19.99 USD", ProductInfo.of("coat", coat(FRIDAY, 0)).at(Long.MAX_VALUE).priceText(), "open end");
  }

  @Test
  void aSalePriceWithoutAWindowIsAlwaysThePrice() {
    ProductInfo p = ProductInfo.of("coat", coat(0, 0));
    assertEquals(null, p.sale());
    assertEquals("19.99 USD", p.at(0).priceText());
  }
}
