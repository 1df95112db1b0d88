package io.visualsearch.imagefetch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.URI;
import org.junit.jupiter.api.Test;

class HostLimiterTest {

  @Test
  void anOriginIsForgottenOnceNobodyHoldsOrAwaitsItsSlots() throws Exception {
    HostLimiter limiter = new HostLimiter(1);
    for (int i = 0; i < 1000; i++) {
      try (HostLimiter.Permit p = limiter.acquire("https://img" + i + ".cdn.example:443", 100)) {
        assertNotNull(p);
      }
    }
    assertEquals(0, limiter.origins(), "a thousand wildcard subdomains leave nothing behind");
  }

  @Test
  void oneHostIsOneOriginHoweverItsUrlSpellsThePort() {
    assertEquals(ImageFetcher.originOf(URI.create("https://CDN.example/a.jpg")),
        ImageFetcher.originOf(URI.create("https://cdn.example:443/b.jpg")));
    assertEquals(ImageFetcher.originOf(URI.create("http://cdn.example/a.jpg")),
        ImageFetcher.originOf(URI.create("HTTP://cdn.example:80/b.jpg")));
    assertNotEquals(ImageFetcher.originOf(URI.create("http://cdn.example/a.jpg")),
        ImageFetcher.originOf(URI.create("https://cdn.example/a.jpg")));
  }

  @Test
  void aSlotIsKeptWhileHeldAndATimedOutWaiterLeavesNoTrace() throws Exception {
    HostLimiter limiter = new HostLimiter(1);
    HostLimiter.Permit held = limiter.acquire("http://a:80", 100);
    assertNotNull(held);
    assertNull(limiter.acquire("http://a:80", 10), "one slot, taken");
    assertEquals(1, limiter.origins());
    held.close();
    assertEquals(0, limiter.origins());
    try (HostLimiter.Permit again = limiter.acquire("http://a:80", 100)) {
      assertNotNull(again, "the slot is free again after the waiter gave up");
    }
  }
}
