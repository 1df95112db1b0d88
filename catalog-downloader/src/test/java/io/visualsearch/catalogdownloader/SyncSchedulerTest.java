package io.visualsearch.catalogdownloader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.runtime.CheckResult;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
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
  void anErrorThatEndsTheScheduledSyncsMakesTheServiceNotReady() throws Exception {
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
      assertEquals("the scheduled syncs died: java.lang.StackOverflowError: feed nested too deep", check.detail());
    } finally {
      scheduler.close();
    }
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
