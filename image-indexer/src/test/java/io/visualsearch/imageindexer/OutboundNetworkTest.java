package io.visualsearch.imageindexer;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class OutboundNetworkTest {

  final AtomicLong now = new AtomicLong(5_000_000_000_000L);
  final OutboundNetwork network = new OutboundNetwork(3, Duration.ofMinutes(1), Duration.ofMinutes(10), now::get);

  @Test
  void oneHostUnreachableOverAndOverIsThatHostsFailure() {
    for (int i = 0; i < 10; i++) {
      network.unreachable("cdn", "cdn.shop:443");
    }
    network.unreachable("img", "img.other:443");
    assertFalse(network.looksDown(), "two hosts: one retailer's CDN and one more can be down");
    network.unreachable("media", "media.third:443");
    assertTrue(network.looksDown());
  }

  @Test
  void unreachableHostsCountOnlyWithinTheWindowAndUntilAnyHostAnswers() {
    network.unreachable("a", "a:443");
    network.unreachable("b", "b:443");
    now.addAndGet(Duration.ofSeconds(61).toNanos());
    network.unreachable("c", "c:443");
    assertFalse(network.looksDown(), "a and b failed over a minute ago");
    network.unreachable("a", "a:443");
    network.unreachable("b", "b:443");
    assertTrue(network.looksDown());
    network.answered();
    assertFalse(network.looksDown());
  }

  @Test
  void oneTenantsUnreachableHostsNeverMakeTheNetworkLookDown() {
    for (int i = 0; i < 50; i++) {
      network.unreachable("evil", "a" + i + ".evil.example:443");
    }
    network.unreachable("shop", "cdn.shop:443");
    assertFalse(network.looksDown(), "one tenant's dead hosts and one more: one retailer and a typo");
    network.unreachable("evil", "img.other:443");
    network.unreachable("other", "img.other:443");
    assertTrue(network.looksDown(), "two hosts failing other tenants' products too");
  }

  @Test
  void theJudgementEndsAfterTheGraceEvenIfNoHostAnswers() {
    // Three dead domains, and nothing else gets through while their products hold the partitions.
    for (int minute = 0; minute <= 10; minute++) {
      network.unreachable("t-a", "typo-a:443");
      network.unreachable("t-b", "typo-b:443");
      network.unreachable("t-c", "typo-c:443");
      assertTrue(network.looksDown(), "minute " + minute);
      now.addAndGet(Duration.ofMinutes(1).toNanos() - 1);
    }
    network.unreachable("t-a", "typo-a:443");
    network.unreachable("t-b", "typo-b:443");
    network.unreachable("t-c", "typo-c:443");
    assertFalse(network.looksDown(), "past the grace: the products spend their rounds again");

    network.answered();
    network.unreachable("a", "a:443");
    network.unreachable("b", "b:443");
    network.unreachable("c", "c:443");
    assertTrue(network.looksDown(), "an answer starts the next judgement afresh");
  }

  @Test
  void anOutageLongAfterAnEpisodeThatRanOutItsGraceGetsAGraceOfItsOwn() {
    for (int minute = 0; minute <= 11; minute++) {
      network.unreachable("t-a", "typo-a:443");
      network.unreachable("t-b", "typo-b:443");
      network.unreachable("t-c", "typo-c:443");
      network.looksDown();
      now.addAndGet(Duration.ofMinutes(1).toNanos());
    }
    assertFalse(network.looksDown(), "the typos' grace ran out");
    // Their products are dead-lettered; nothing fails, and nothing answers, for hours.
    now.addAndGet(Duration.ofHours(3).toNanos());
    assertFalse(network.looksDown());
    network.unreachable("a", "a:443");
    network.unreachable("b", "b:443");
    network.unreachable("c", "c:443");
    assertTrue(network.looksDown(), "our egress down now: a new episode");
  }
}
