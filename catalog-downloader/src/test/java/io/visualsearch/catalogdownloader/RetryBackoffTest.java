package io.visualsearch.catalogdownloader;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RetryBackoffTest {

  private static final Duration QUICK = Duration.ZERO;

  @Test
  void eachFailureInARowDoublesTheDelayUpToTheInterval() {
    RetryBackoff backoff = new RetryBackoff(Duration.ofSeconds(30), Duration.ofMinutes(15), () -> 0);
    List<Duration> delays = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      delays.add(backoff.failed("acme", QUICK).orElseThrow());
    }
    assertEquals(List.of(Duration.ofSeconds(30), Duration.ofMinutes(1), Duration.ofMinutes(2), Duration.ofMinutes(4),
        Duration.ofMinutes(8), Duration.ofMinutes(15), Duration.ofMinutes(15), Duration.ofMinutes(15)), delays);
    assertEquals(8, backoff.failures("acme"));
  }

  @Test
  void aLongOutageNeverOverflowsTheDelay() {
    RetryBackoff backoff = new RetryBackoff(Duration.ofSeconds(30), Duration.ofDays(10_000), () -> 0);
    Duration delay = Duration.ZERO;
    for (int i = 0; i < 200; i++) {
      delay = backoff.failed("acme", QUICK).orElseThrow();
    }
    assertEquals(Duration.ofDays(10_000), delay);
  }

  @Test
  void jitterTakesOffUpToAFifthAndNeverAddsToTheCap() {
    assertEquals(Optional.of(Duration.ofSeconds(27)),
        new RetryBackoff(Duration.ofSeconds(30), Duration.ofMinutes(15), () -> 0.5).failed("acme", QUICK));
    RetryBackoff backoff = new RetryBackoff(Duration.ofSeconds(30), Duration.ofMinutes(15), () -> 0.75);
    assertEquals(Optional.of(Duration.ofMillis(25_500)), backoff.failed("acme", QUICK));
    for (int i = 0; i < 10; i++) {
      backoff.failed("acme", QUICK);
    }
    assertEquals(Optional.of(Duration.ofMillis(765_000)), backoff.failed("acme", QUICK), "capped, then jittered");
    RetryBackoff most = new RetryBackoff(Duration.ofSeconds(30), Duration.ofMinutes(15), () -> Math.nextDown(1.0));
    assertEquals(Optional.of(Duration.ofMillis(24_001)), most.failed("acme", QUICK), "never less than four fifths");
  }

  @Test
  void aRetryWaitsAtLeastAsLongAsTheFailedSyncTookButNoLongerThanTheInterval() {
    // A feed host that hangs until the download timeout must not hold the one sync thread most of the time.
    RetryBackoff backoff = new RetryBackoff(Duration.ofSeconds(30), Duration.ofMinutes(15), () -> 0);
    assertEquals(Optional.of(Duration.ofMinutes(5)), backoff.failed("acme", Duration.ofMinutes(5)));
    assertEquals(Optional.of(Duration.ofMinutes(15)), backoff.failed("acme", Duration.ofMinutes(40)));
  }

  @Test
  void aResetStartsOverAndEachTenantCountsItsOwnFailures() {
    RetryBackoff backoff = new RetryBackoff(Duration.ofSeconds(30), Duration.ofMinutes(15), () -> 0);
    backoff.failed("acme", QUICK);
    backoff.failed("acme", QUICK);
    assertEquals(Optional.of(Duration.ofSeconds(30)), backoff.failed("shop", QUICK), "another tenant's first failure");
    assertEquals(Optional.of(Duration.ofMinutes(2)), backoff.failed("acme", QUICK));
    backoff.reset("acme");
    assertEquals(0, backoff.failures("acme"));
    assertEquals(Optional.of(Duration.ofSeconds(30)), backoff.failed("acme", QUICK));
    assertEquals(1, backoff.failures("shop"));
  }

  @Test
  void zeroTurnsRetriesOff() {
    RetryBackoff backoff = new RetryBackoff(Duration.ZERO, Duration.ofMinutes(15), () -> 0);
    assertEquals(Optional.empty(), backoff.failed("acme", QUICK));
  }
}
