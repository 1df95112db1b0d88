package io.visualsearch.imageindexer;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class FailingHostsTest {

  final AtomicLong now = new AtomicLong(1_000_000_000_000L);
  final FailingHosts hosts = new FailingHosts(3, Duration.ofMinutes(10), Duration.ofMinutes(1), now::get);

  void advance(Duration d) {
    now.addAndGet(d.toNanos());
  }

  @Test
  void aHostIsSkippedOnceThreeOfItsProductsUsedTheirBudgetWithinTheWindow() {
    hosts.gaveUp("cdn.down.example");
    hosts.gaveUp("cdn.down.example");
    assertFalse(hosts.skip("cdn.down.example"), "two products may be bad luck");
    hosts.gaveUp("cdn.down.example");
    assertTrue(hosts.skip("cdn.down.example"));
    assertFalse(hosts.skip("cdn.ok.example"), "other hosts are not affected");
  }

  @Test
  void failuresOlderThanTheWindowDoNotCount() {
    hosts.gaveUp("cdn.flaky.example");
    hosts.gaveUp("cdn.flaky.example");
    advance(Duration.ofMinutes(11));
    hosts.gaveUp("cdn.flaky.example");
    assertFalse(hosts.skip("cdn.flaky.example"));
  }

  @Test
  void aFailingHostGetsOneProbeAMinuteAndASuccessClearsIt() {
    for (int i = 0; i < 3; i++) {
      hosts.gaveUp("cdn.down.example");
    }
    assertTrue(hosts.skip("cdn.down.example"));
    advance(Duration.ofSeconds(61));
    assertFalse(hosts.skip("cdn.down.example"), "the probe is let through");
    assertTrue(hosts.skip("cdn.down.example"), "one probe, not every product after it");
    hosts.succeeded("cdn.down.example");
    assertFalse(hosts.skip("cdn.down.example"), "the host works again");
  }

  @Test
  void failedRefreshesStopFurtherRefreshesButNeverNewProducts() {
    hosts.refreshFailed("cdn.down.example");
    hosts.refreshFailed("cdn.down.example");
    assertFalse(hosts.skipRefresh("cdn.down.example"), "two may be bad luck");
    hosts.refreshFailed("cdn.down.example");
    assertTrue(hosts.skipRefresh("cdn.down.example"));
    assertFalse(hosts.skip("cdn.down.example"), "a new product is only given up on products that used their budget");
    advance(Duration.ofSeconds(61));
    assertFalse(hosts.skipRefresh("cdn.down.example"), "the probe is let through");
    assertTrue(hosts.skipRefresh("cdn.down.example"));
    hosts.succeeded("cdn.down.example");
    assertFalse(hosts.skipRefresh("cdn.down.example"), "the host answered");
  }

  @Test
  void aHostFailingNewProductsIsNotAskedForRefreshesEither() {
    for (int i = 0; i < 3; i++) {
      hosts.gaveUp("cdn.down.example");
    }
    assertTrue(hosts.skipRefresh("cdn.down.example"));
  }

  @Test
  void failedRefreshesOlderThanTheWindowDoNotCount() {
    hosts.refreshFailed("cdn.flaky.example");
    hosts.refreshFailed("cdn.flaky.example");
    advance(Duration.ofMinutes(11));
    hosts.refreshFailed("cdn.flaky.example");
    assertFalse(hosts.skipRefresh("cdn.flaky.example"));
  }
}
