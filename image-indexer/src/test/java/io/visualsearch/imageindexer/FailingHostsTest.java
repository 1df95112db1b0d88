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
    hosts.gaveUp("shop", "cdn.down.example");
    hosts.gaveUp("shop", "cdn.down.example");
    assertFalse(hosts.skip("shop", "cdn.down.example"), "two products may be bad luck");
    hosts.gaveUp("shop", "cdn.down.example");
    assertTrue(hosts.skip("shop", "cdn.down.example"));
    assertFalse(hosts.skip("shop", "cdn.ok.example"), "other hosts are not affected");
  }

  @Test
  void failuresOlderThanTheWindowDoNotCount() {
    hosts.gaveUp("shop", "cdn.flaky.example");
    hosts.gaveUp("shop", "cdn.flaky.example");
    advance(Duration.ofMinutes(11));
    hosts.gaveUp("shop", "cdn.flaky.example");
    assertFalse(hosts.skip("shop", "cdn.flaky.example"));
  }

  @Test
  void aFailingHostGetsOneProbeAMinuteAndASuccessClearsIt() {
    for (int i = 0; i < 3; i++) {
      hosts.gaveUp("shop", "cdn.down.example");
    }
    assertTrue(hosts.skip("shop", "cdn.down.example"));
    advance(Duration.ofSeconds(61));
    assertFalse(hosts.skip("shop", "cdn.down.example"), "the probe is let through");
    assertTrue(hosts.skip("shop", "cdn.down.example"), "one probe, not every product after it");
    hosts.succeeded("shop", "cdn.down.example");
    assertFalse(hosts.skip("shop", "cdn.down.example"), "the host works again");
  }

  @Test
  void failedRefreshesStopFurtherRefreshesButNeverNewProducts() {
    hosts.refreshFailed("cdn.down.example");
    hosts.refreshFailed("cdn.down.example");
    assertFalse(hosts.skipRefresh("shop", "cdn.down.example"), "two may be bad luck");
    hosts.refreshFailed("cdn.down.example");
    assertTrue(hosts.skipRefresh("shop", "cdn.down.example"));
    assertFalse(hosts.skip("shop", "cdn.down.example"), "a new product is only given up on products that used their budget");
    advance(Duration.ofSeconds(61));
    assertFalse(hosts.skipRefresh("shop", "cdn.down.example"), "the probe is let through");
    assertTrue(hosts.skipRefresh("shop", "cdn.down.example"));
    hosts.succeeded("shop", "cdn.down.example");
    assertFalse(hosts.skipRefresh("shop", "cdn.down.example"), "the host answered");
  }

  @Test
  void aHostFailingNewProductsIsNotAskedForRefreshesEither() {
    for (int i = 0; i < 3; i++) {
      hosts.gaveUp("shop", "cdn.down.example");
    }
    assertTrue(hosts.skipRefresh("shop", "cdn.down.example"));
  }

  @Test
  void anotherTenantsProductsFailingOnAHostNeverSkipATenantsProducts() {
    for (int i = 0; i < 3; i++) {
      hosts.gaveUp("shop", "cdn.shared.example");
    }
    assertTrue(hosts.skip("shop", "cdn.shared.example"));
    assertFalse(hosts.skip("other", "cdn.shared.example"), "the other tenant's product is fetched");
    assertFalse(hosts.skipRefresh("other", "cdn.shared.example"));
  }

  @Test
  void aTenantRunsOutOfRetriesOnceItsProductsUsedThemUpOnThreeDifferentHosts() {
    hosts.gaveUp("shop", "a1.evil.example");
    hosts.gaveUp("shop", "a1.evil.example");
    hosts.gaveUpSlowly("shop", "a2.evil.example");
    assertFalse(hosts.outOfRetries("shop"), "two hosts");
    hosts.gaveUp("shop", "203.0.113.5:10001");
    assertTrue(hosts.outOfRetries("shop"));
    assertFalse(hosts.outOfRetries("other"), "per tenant");
    hosts.succeeded("shop", "a1.evil.example");
    assertFalse(hosts.outOfRetries("shop"), "a host that answered no longer counts");
    hosts.gaveUp("shop", "a4.evil.example");
    advance(Duration.ofMinutes(11));
    assertFalse(hosts.outOfRetries("shop"), "older than the window");
  }

  @Test
  void failedRefreshesOlderThanTheWindowDoNotCount() {
    hosts.refreshFailed("cdn.flaky.example");
    hosts.refreshFailed("cdn.flaky.example");
    advance(Duration.ofMinutes(11));
    hosts.refreshFailed("cdn.flaky.example");
    assertFalse(hosts.skipRefresh("shop", "cdn.flaky.example"));
  }
}
