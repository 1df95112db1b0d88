package io.visualsearch.catalogdownloader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.runtime.CheckResult;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SyncSchedulerTest {

  private static final FeedLocation SOURCE = FeedLocation.parse("shop=file:///srv/feeds/shop.tsv");

  @Test
  void aFeedThatFailsKeepsTheScheduleAndTheServiceReady() throws Exception {
    CountDownLatch attempts = new CountDownLatch(3);
    SyncScheduler scheduler = new SyncScheduler((source, progress) -> {
      attempts.countDown();
      throw new IOException("feed answered HTTP 500");
    }, List.of(SOURCE), Duration.ofMillis(20));
    scheduler.start();
    try {
      assertTrue(attempts.await(30, TimeUnit.SECONDS), "the feed is tried again at each interval");
      CheckResult check = scheduler.check();
      assertTrue(check.ok(), check.detail());
      assertTrue(check.detail().contains("HTTP 500"), check.detail());
    } finally {
      scheduler.close();
    }
  }

  @Test
  void aScheduledSyncThatFoundTheTenantBusyIsTriedAgainSoonNotAtTheNextInterval() throws Exception {
    List<SyncReport.Status> answers = new java.util.concurrent.CopyOnWriteArrayList<>();
    CountDownLatch applied = new CountDownLatch(1);
    SyncScheduler scheduler = new SyncScheduler((source, progress) -> {
      SyncReport.Status status = answers.isEmpty() ? SyncReport.Status.BUSY : SyncReport.Status.APPLIED;
      answers.add(status);
      if (status == SyncReport.Status.APPLIED) {
        applied.countDown();
      }
      return SyncReport.failed(source.tenant(), source.uri().toString(), status, "");
    }, List.of(SOURCE), Duration.ofHours(1), Duration.ofMillis(50));
    scheduler.start();
    try {
      assertTrue(applied.await(30, TimeUnit.SECONDS), "retried within the lease's time, not an hour later");
      assertEquals(List.of(SyncReport.Status.BUSY, SyncReport.Status.APPLIED), answers);
    } finally {
      scheduler.close();
    }
  }

  @Test
  void aTenantBusyForSeveralIntervalsHasOneRetryNotOnePerInterval() throws Exception {
    FeedLocation other = FeedLocation.parse("other=file:///srv/feeds/other.tsv");
    List<String> synced = new java.util.concurrent.CopyOnWriteArrayList<>();
    CountDownLatch passes = new CountDownLatch(6);
    SyncScheduler scheduler = new SyncScheduler((source, progress) -> {
      synced.add(source.tenant());
      if (source.tenant().equals("other")) {
        passes.countDown();
        return SyncReport.failed(source.tenant(), source.uri().toString(), SyncReport.Status.APPLIED, "");
      }
      return SyncReport.failed(source.tenant(), source.uri().toString(), SyncReport.Status.BUSY, "");
    }, List.of(SOURCE, other), Duration.ofMillis(20), Duration.ofMinutes(10));
    scheduler.start();
    try {
      assertTrue(passes.await(30, TimeUnit.SECONDS));
      // Six passes over both tenants: "shop" was tried in the first only, and waits for its one retry.
      assertEquals(1, synced.stream().filter("shop"::equals).count(), synced.toString());
    } finally {
      scheduler.close();
    }
  }

  private static final FeedLocation OTHER = FeedLocation.parse("other=file:///srv/feeds/other.tsv");

  private static SyncReport report(FeedLocation source, SyncReport.Status status) {
    return SyncReport.failed(source.tenant(), source.uri().toString(), status, "");
  }

  /** Waits until the syncs in hand or due have run, an on-demand one of OTHER among them. */
  private static void drain(SyncScheduler scheduler) throws Exception {
    scheduler.request(OTHER.tenant()).get(30, TimeUnit.SECONDS);
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(scheduler::idle);
  }

  @Test
  void aScheduledSyncThatFailedIsTriedAgainWithBackoffNotAtTheNextInterval() throws Exception {
    // The store or the broker away for a moment: the tenant's changes must not wait a whole interval more.
    List<String> answers = new java.util.concurrent.CopyOnWriteArrayList<>();
    CountDownLatch applied = new CountDownLatch(1);
    RetryBackoff backoff = new RetryBackoff(Duration.ofMillis(10), Duration.ofHours(1), () -> 0);
    SyncScheduler scheduler = new SyncScheduler((source, progress) -> {
      if (source.equals(OTHER)) {
        return report(source, SyncReport.Status.APPLIED);
      }
      if (answers.size() < 3) {
        answers.add("FAILED");
        throw new IOException("S3 answered 503 Slow Down");
      }
      answers.add("APPLIED");
      applied.countDown();
      return report(source, SyncReport.Status.APPLIED);
    }, List.of(SOURCE, OTHER), Duration.ofHours(1), Duration.ofHours(1), backoff);
    scheduler.start();
    try {
      assertTrue(applied.await(30, TimeUnit.SECONDS), "retried after a backoff, not an hour later: " + answers);
      drain(scheduler);
      assertEquals(List.of("FAILED", "FAILED", "FAILED", "APPLIED"), answers);
      assertEquals(0, backoff.failures("shop"), "a sync that succeeded starts the backoff over");
      assertEquals(Optional.empty(), scheduler.retryWaiting("shop"), "synced: nothing more until the next interval");
    } finally {
      scheduler.close();
    }
  }

  @Test
  void anErrorThatEndsARetriedSyncIsNotSwallowedByItsOneShotTask() throws Exception {
    CountDownLatch died = new CountDownLatch(1);
    RetryBackoff backoff = new RetryBackoff(Duration.ofMillis(10), Duration.ofHours(1), () -> 0);
    java.util.concurrent.atomic.AtomicInteger runs = new java.util.concurrent.atomic.AtomicInteger();
    SyncScheduler scheduler = new SyncScheduler((source, progress) -> {
      if (source.equals(OTHER)) {
        return report(source, SyncReport.Status.APPLIED);
      }
      if (runs.incrementAndGet() == 1) {
        throw new IOException("S3 answered 503 Slow Down");
      }
      died.countDown();
      throw new StackOverflowError("feed nested too deep");
    }, List.of(SOURCE, OTHER), Duration.ofHours(1), Duration.ofHours(1), backoff);
    scheduler.start();
    try {
      assertTrue(died.await(30, TimeUnit.SECONDS), "retried");
      drain(scheduler);
      assertEquals("a catalog sync died: java.lang.StackOverflowError: feed nested too deep", scheduler.wedged());
    } finally {
      scheduler.close();
    }
  }

  @Test
  void aFailedSyncsRetryWaitsTheFirstBackoff() throws Exception {
    SyncScheduler scheduler = new SyncScheduler((source, progress) -> {
      if (source.equals(SOURCE)) {
        throw new IOException("Connect to kafka:9092 failed");
      }
      return report(source, SyncReport.Status.APPLIED);
    }, List.of(SOURCE, OTHER), Duration.ofHours(1), Duration.ofHours(1), Duration.ofMinutes(10));
    scheduler.start();
    try {
      drain(scheduler);
      Duration retry = scheduler.retryWaiting("shop").orElseThrow(() -> new AssertionError("no retry waiting"));
      // Ten minutes less up to a fifth of jitter (and the moments this test took), not the hour's interval.
      assertTrue(retry.compareTo(Duration.ofMinutes(7)) > 0 && retry.compareTo(Duration.ofMinutes(10)) <= 0,
          retry::toString);
      assertEquals(Optional.empty(), scheduler.retryWaiting("other"));
    } finally {
      scheduler.close();
    }
  }

  @Test
  void aRefusedFeedIsNotRetriedBeforeTheNextInterval() throws Exception {
    // Retried, a bad feed would only be downloaded, refused and dead-lettered again.
    List<SyncReport.Status> answers = new java.util.concurrent.CopyOnWriteArrayList<>();
    CountDownLatch refused = new CountDownLatch(1);
    RetryBackoff backoff = new RetryBackoff(Duration.ofMillis(10), Duration.ofHours(1), () -> 0);
    SyncScheduler scheduler = new SyncScheduler((source, progress) -> {
      if (source.equals(OTHER)) {
        return report(source, SyncReport.Status.APPLIED);
      }
      if (answers.isEmpty()) {
        answers.add(SyncReport.Status.FAILED);
        throw new IOException("feed answered HTTP 503");
      }
      answers.add(SyncReport.Status.REFUSED);
      refused.countDown();
      return report(source, SyncReport.Status.REFUSED);
    }, List.of(SOURCE, OTHER), Duration.ofHours(1), Duration.ofHours(1), backoff);
    scheduler.start();
    try {
      assertTrue(refused.await(30, TimeUnit.SECONDS), "the failed sync was retried: " + answers);
      drain(scheduler);
      assertEquals(Optional.empty(), scheduler.retryWaiting("shop"), "a refused feed waits for the next interval");
      assertEquals(List.of(SyncReport.Status.FAILED, SyncReport.Status.REFUSED), answers);
      assertEquals(0, backoff.failures("shop"), "a refused feed starts the backoff over");
    } finally {
      scheduler.close();
    }
  }

  @Test
  void aTenantFailingForSeveralIntervalsHasOneRetryNotOnePerInterval() throws Exception {
    List<String> synced = new java.util.concurrent.CopyOnWriteArrayList<>();
    CountDownLatch passes = new CountDownLatch(6);
    SyncScheduler scheduler = new SyncScheduler((source, progress) -> {
      synced.add(source.tenant());
      if (source.equals(OTHER)) {
        passes.countDown();
        return report(source, SyncReport.Status.APPLIED);
      }
      throw new IOException("S3 answered 503");
    }, List.of(SOURCE, OTHER), Duration.ofMillis(20), Duration.ofMinutes(10),
        new RetryBackoff(Duration.ofMinutes(10), Duration.ofHours(1), () -> 0));
    scheduler.start();
    try {
      assertTrue(passes.await(30, TimeUnit.SECONDS));
      // Six passes over both tenants: "shop" failed in the first, and each pass skips it while its retry waits.
      assertEquals(1, synced.stream().filter("shop"::equals).count(), synced.toString());
    } finally {
      scheduler.close();
    }
  }

  @Test
  void aFailingTenantsRetriesLeaveTheOtherTenantsTheirScheduledSyncs() throws Exception {
    CountDownLatch passes = new CountDownLatch(6);
    List<String> synced = new java.util.concurrent.CopyOnWriteArrayList<>();
    SyncScheduler scheduler = new SyncScheduler((source, progress) -> {
      synced.add(source.tenant());
      if (source.equals(OTHER)) {
        passes.countDown();
        return report(source, SyncReport.Status.APPLIED);
      }
      throw new IOException("S3 answered 503");
    }, List.of(SOURCE, OTHER), Duration.ofMillis(20), Duration.ofMinutes(10), Duration.ofMillis(1));
    scheduler.start();
    try {
      assertTrue(passes.await(30, TimeUnit.SECONDS), "the other tenant's passes go on: " + synced.size() + " syncs");
      assertTrue(synced.stream().filter("shop"::equals).count() > 1, synced.toString());
    } finally {
      scheduler.close();
    }
  }

  @Test
  void aStopDropsAFailedTenantsRetryThatIsStillWaiting() throws Exception {
    List<String> answers = new java.util.concurrent.CopyOnWriteArrayList<>();
    CountDownLatch failed = new CountDownLatch(1);
    SyncScheduler scheduler = new SyncScheduler((source, progress) -> {
      answers.add("FAILED");
      failed.countDown();
      throw new IOException("S3 answered 503");
    }, List.of(SOURCE), Duration.ofHours(1), Duration.ofHours(1), Duration.ofSeconds(2));
    scheduler.start();
    assertTrue(failed.await(30, TimeUnit.SECONDS));
    scheduler.close();
    Thread.sleep(2500);
    assertEquals(List.of("FAILED"), answers, "no sync started while stopping");
  }

  @Test
  void aStopDropsABusyTenantsRetryThatIsStillWaiting() throws Exception {
    List<SyncReport.Status> answers = new java.util.concurrent.CopyOnWriteArrayList<>();
    CountDownLatch busy = new CountDownLatch(1);
    SyncScheduler scheduler = new SyncScheduler((source, progress) -> {
      answers.add(SyncReport.Status.BUSY);
      busy.countDown();
      return SyncReport.failed(source.tenant(), source.uri().toString(), SyncReport.Status.BUSY, "");
    }, List.of(SOURCE), Duration.ofHours(1), Duration.ofSeconds(2));
    scheduler.start();
    assertTrue(busy.await(30, TimeUnit.SECONDS));
    // The retry is two seconds away when the stop comes: it must not run, nor hold the stop.
    scheduler.close();
    Thread.sleep(2500);
    assertEquals(List.of(SyncReport.Status.BUSY), answers, "no sync started while stopping");
  }

  @Test
  void anErrorThatEndsAScheduledSyncMakesTheServiceNotReadyAndWedged() throws Exception {
    CountDownLatch thrown = new CountDownLatch(1);
    SyncScheduler scheduler = new SyncScheduler((source, progress) -> {
      thrown.countDown();
      throw new StackOverflowError("feed nested too deep");
    }, List.of(SOURCE), Duration.ofMillis(20));
    scheduler.start();
    try {
      assertTrue(thrown.await(30, TimeUnit.SECONDS));
      CheckResult check = awaitFailed(scheduler);
      assertFalse(check.ok());
      assertEquals("a catalog sync died: java.lang.StackOverflowError: feed nested too deep", check.detail());
      assertEquals(check.detail(), scheduler.wedged(), "only a restart brings them back: /healthz fails");
    } finally {
      scheduler.close();
    }
  }

  @Test
  void aTenantWhoseFeedHostIsSlowHoldsOnlyItsOwnSync() throws Exception {
    // One retailer's server dribbling its feed for the whole download limit held every other
    // retailer's sync behind it.
    CountDownLatch feedSent = new CountDownLatch(1);
    CountDownLatch otherApplied = new CountDownLatch(1);
    SyncScheduler scheduler = new SyncScheduler((source, progress) -> {
      if (source.equals(SOURCE)) {
        assertTrue(feedSent.await(30, TimeUnit.SECONDS));
      } else {
        otherApplied.countDown();
      }
      return report(source, SyncReport.Status.APPLIED);
    }, List.of(SOURCE, OTHER), Duration.ofHours(1)).syncingAtOnce(2);
    scheduler.start();
    try {
      assertTrue(otherApplied.await(30, TimeUnit.SECONDS), "the other tenant synced while shop's download went on");
      assertTrue(scheduler.status("shop").running());
      feedSent.countDown();
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(scheduler::idle);
      assertEquals(SyncReport.Status.APPLIED, scheduler.status("shop").lastSync().status());
    } finally {
      feedSent.countDown();
      scheduler.close();
    }
  }

  @Test
  void aTenantsOwnSyncsNeverOverlapWhateverTheThreads() throws Exception {
    // Two syncs of one tenant on one instance share its lease and would interleave their diffs.
    java.util.concurrent.atomic.AtomicInteger inHand = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger most = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger runs = new java.util.concurrent.atomic.AtomicInteger();
    SyncScheduler scheduler = new SyncScheduler((source, progress) -> {
      most.accumulateAndGet(inHand.incrementAndGet(), Math::max);
      try {
        Thread.sleep(5);
      } finally {
        inHand.decrementAndGet();
      }
      runs.incrementAndGet();
      return report(source, SyncReport.Status.APPLIED);
    }, List.of(SOURCE), Duration.ofMillis(5)).syncingAtOnce(4);
    scheduler.start();
    try {
      List<java.util.concurrent.CompletableFuture<SyncReport>> asked = new java.util.ArrayList<>();
      for (int i = 0; i < 20; i++) {
        asked.add(scheduler.request("shop"));
        Thread.sleep(2);
      }
      for (java.util.concurrent.CompletableFuture<SyncReport> a : asked) {
        a.get(30, TimeUnit.SECONDS);
      }
      assertTrue(runs.get() >= 3, runs + " syncs");
      assertEquals(1, most.get(), "syncs of one tenant at once");
    } finally {
      scheduler.close();
    }
  }

  @Test
  void aScheduledSyncLongerThanTheIntervalIsNotQueuedAgainAtEachPass() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    java.util.concurrent.atomic.AtomicInteger runs = new java.util.concurrent.atomic.AtomicInteger();
    SyncScheduler scheduler = new SyncScheduler((source, progress) -> {
      if (runs.incrementAndGet() == 1) {
        assertTrue(release.await(30, TimeUnit.SECONDS));
      }
      return report(source, SyncReport.Status.APPLIED);
    }, List.of(SOURCE), Duration.ofMillis(20)).syncingAtOnce(2);
    scheduler.start();
    try {
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> runs.get() == 1);
      Thread.sleep(400); // twenty passes while the first sync runs
      release.countDown();
      // Queued behind what the passes left in the lane: one scheduled sync, not twenty.
      scheduler.request("shop").get(30, TimeUnit.SECONDS);
      assertTrue(runs.get() <= 4, runs + " syncs by the time the on-demand one ended");
    } finally {
      release.countDown();
      scheduler.close();
    }
  }

  @Test
  void oneTenantsSuccessLeavesAnotherTenantsFailureInView() throws Exception {
    CountDownLatch shopFailed = new CountDownLatch(1);
    SyncScheduler scheduler = new SyncScheduler((source, progress) -> {
      if (source.equals(SOURCE)) {
        shopFailed.countDown();
        throw new IOException("feed answered HTTP 500");
      }
      return report(source, SyncReport.Status.APPLIED);
    }, List.of(SOURCE, OTHER), Duration.ofHours(1), Duration.ofHours(1), Duration.ofHours(1)).syncingAtOnce(2);
    scheduler.start();
    try {
      assertTrue(shopFailed.await(30, TimeUnit.SECONDS));
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !scheduler.status("shop").running());
      scheduler.request("other").get(30, TimeUnit.SECONDS);
      CheckResult check = scheduler.check();
      assertTrue(check.ok(), check.detail());
      assertTrue(check.detail().contains("shop") && check.detail().contains("HTTP 500"), check.detail());
    } finally {
      scheduler.close();
    }
  }

  @Test
  void aStopAnswersTheRequestsItDroppedBeforeTheyRan() throws Exception {
    CountDownLatch inHand = new CountDownLatch(1);
    SyncScheduler scheduler = new SyncScheduler((source, progress) -> {
      inHand.countDown();
      new CountDownLatch(1).await(); // until the stop interrupts it
      return report(source, SyncReport.Status.APPLIED);
    }, List.of(SOURCE, OTHER), Duration.ZERO).drainWithin(() -> Duration.ZERO);
    scheduler.start();
    scheduler.request("shop");
    assertTrue(inHand.await(30, TimeUnit.SECONDS));
    java.util.concurrent.CompletableFuture<SyncReport> waiting = scheduler.request("other");
    scheduler.close();
    org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.CancellationException.class,
        () -> waiting.get(5, TimeUnit.SECONDS), "completed as cancelled, not left waiting for ever");
  }

  /** The executor marks the periodic task done just after the error leaves it. */
  private static CheckResult awaitFailed(SyncScheduler scheduler) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    CheckResult check = scheduler.check();
    while (check.ok() && System.nanoTime() < deadline) {
      Thread.sleep(10);
      check = scheduler.check();
    }
    return check;
  }
}
