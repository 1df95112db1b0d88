package io.visualsearch.catalogfeed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class SaleWindowTest {

  private static long ms(String instant) {
    return Instant.parse(instant).toEpochMilli();
  }

  @Test
  void merchantsFormsReadAsTheInstantsTheyName() {
    assertEquals(new SaleWindow(ms("2025-11-28T08:00:00Z"), ms("2025-12-02T07:59:00Z")),
        SaleWindow.parse("2025-11-28T00:00-0800/2025-12-01T23:59-0800"));
    assertEquals(new SaleWindow(ms("2025-11-28T00:00:00Z"), ms("2025-11-30T23:00:00Z")),
        SaleWindow.parse("2025-11-28T00:00:00Z / 2025-12-01T00:00:00+01:00"));
    assertEquals(new SaleWindow(ms("2025-11-28T10:30:15.500Z"), ms("2025-11-29T00:00:00Z")),
        SaleWindow.parse("2025-11-28T10:30:15.5/2025-11-29T00:00"), "no offset: UTC");
    assertEquals(new SaleWindow(ms("2025-11-28T00:00:00Z"), ms("2025-12-02T00:00:00Z")),
        SaleWindow.parse("2025-11-28/2025-12-01"), "a bare end date lasts its whole day");
    assertEquals(new SaleWindow(0, ms("2025-12-02T00:00:00Z")), SaleWindow.parse("/2025-12-01"));
  }

  @Test
  void theSaleAppliesFromItsStartUntilBeforeItsEnd() {
    SaleWindow w = SaleWindow.parse("2025-11-28T00:00Z/2025-12-01T00:00Z");
    assertFalse(w.contains(ms("2025-11-27T23:59:59.999Z")), "loaded a week ahead: not yet");
    assertTrue(w.contains(ms("2025-11-28T00:00:00Z")));
    assertTrue(w.contains(ms("2025-11-30T23:59:59.999Z")));
    assertFalse(w.contains(ms("2025-12-01T00:00:00Z")), "over");
    assertTrue(SaleWindow.ALWAYS.contains(0) && SaleWindow.ALWAYS.contains(Long.MAX_VALUE));
  }

  @Test
  void anythingElseIsRefusedNamingTheAttribute() {
    for (String bad : new String[] {"next friday", "2025-11-28", "2025-11-28T00:00Z/2025-11-27T00:00Z",
        "2025-13-01T00:00Z/2025-12-01T00:00Z", "/", "a/b/c", "2025-11-28T00:00+25:00/2025-12-01T00:00Z"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SaleWindow.parse(bad), bad);
      assertTrue(e.getMessage().contains("sale_price_effective_date"), e.getMessage());
    }
  }
}
