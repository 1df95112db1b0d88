package io.visualsearch.catalogdownloader;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreSettings;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.StackExtension;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** One sync of a tenant at a time, on the stack's S3-compatible store and its conditional writes. */
@ExtendWith(StackExtension.class)
class ITSyncLeases {

  ObjectStore store;

  @BeforeEach
  void start(EmbeddedStack stack) {
    store = ObjectStore.fromConfig(ObjectStoreSettings.definition().parse(stack.serviceEnvironment()), true);
    store.start();
  }

  @AfterEach
  void stop() {
    store.close();
  }

  SyncLeases leases(String owner, Duration ttl) {
    return new SyncLeases(store, owner, ttl, Clock.systemUTC());
  }

  @Test
  void aSecondSyncOfTheTenantIsBusyUntilTheFirstEndsAndOtherTenantsAreNot() throws Exception {
    SyncLeases job = leases("one-shot-job", Duration.ofMinutes(2));
    SyncLeases service = leases("catalog-downloader-0", Duration.ofMinutes(2));
    try (SyncLeases.Lease held = job.acquire("lease-busy")) {
      assertTrue(held.held());
      SyncLeases.BusyException busy = assertThrows(SyncLeases.BusyException.class,
          () -> service.acquire("lease-busy"));
      assertTrue(busy.getMessage().contains("one-shot-job"), busy.getMessage());
      service.acquire("lease-other-tenant").close();
    }
    assertFalse(store.exists(SyncLeases.key("lease-busy")), "released at the end of the sync");
    service.acquire("lease-busy").close();
  }

  @Test
  void aLeaseLeftByADeadInstanceIsTakenOverOnceExpired() throws Exception {
    store.put(SyncLeases.key("lease-dead"), ("{\"owner\":\"killed-pod\",\"expires_at_ms\":"
        + (System.currentTimeMillis() - 1) + "}").getBytes(StandardCharsets.UTF_8), "application/json");
    try (SyncLeases.Lease taken = leases("catalog-downloader-1", Duration.ofMinutes(2)).acquire("lease-dead")) {
      assertTrue(taken.held());
      assertTrue(new String(store.get(SyncLeases.key("lease-dead")).orElseThrow().bytes(), StandardCharsets.UTF_8)
          .contains("catalog-downloader-1"));
    }
  }

  @Test
  void aLeaseTheInstancesPreviousRunLeftIsTakenOverAtOnceAndAnotherInstancesIsNot() throws Exception {
    // Killed mid-sync: the lease of this instance's previous run (same name, another run) is still
    // live. Here that run is still in the JVM, so it can be seen to find its lease gone.
    Duration ttl = Duration.ofSeconds(3);
    try (SyncLeases.Lease orphan = leases("catalog-downloader-0", ttl).acquire("lease-restart")) {
      SyncLeases.BusyException busy = assertThrows(SyncLeases.BusyException.class,
          () -> leases("catalog-downloader-1", ttl).acquire("lease-restart"));
      assertTrue(busy.expiresAtMs() > System.currentTimeMillis(), "says when it would run out");
      try (SyncLeases.Lease restarted = leases("catalog-downloader-0", ttl).acquire("lease-restart")) {
        assertTrue(restarted.held(), "no need to wait for the dead run's lease to run out");
        await().atMost(Duration.ofSeconds(10)).until(() -> !orphan.held());
        assertThrows(SyncLeases.LostException.class, orphan::requireHeld, "the old run may send nothing more");
      }
    }
  }

  @Test
  void aRunningSyncRenewsItsLeaseBeyondItsTimeToLive() throws Exception {
    // Renewed every third of it: a store call may stall most of a second on a loaded machine.
    Duration ttl = Duration.ofSeconds(2);
    try (SyncLeases.Lease held = leases("long-sync", ttl).acquire("lease-renewed")) {
      Thread.sleep(3 * ttl.toMillis()); // three lifetimes: held only if renewed
      assertTrue(held.held());
      assertThrows(SyncLeases.BusyException.class, () -> leases("another", ttl).acquire("lease-renewed"));
    }
  }

  @Test
  void aSyncWhoseLeaseWasTakenOverKnowsItNoLongerHoldsTheTenant() throws Exception {
    Duration ttl = Duration.ofSeconds(1);
    try (SyncLeases.Lease stalled = leases("stalled-sync", ttl).acquire("lease-lost")) {
      // As if this sync stalled past its lease and another instance took the tenant over.
      store.put(SyncLeases.key("lease-lost"), ("{\"owner\":\"other\",\"expires_at_ms\":"
          + (System.currentTimeMillis() + 60_000) + "}").getBytes(StandardCharsets.UTF_8), "application/json");
      await().atMost(Duration.ofSeconds(10)).until(() -> !stalled.held());
    }
    assertTrue(new String(store.get(SyncLeases.key("lease-lost")).orElseThrow().bytes(), StandardCharsets.UTF_8)
        .contains("\"other\""), "closing a lost lease leaves the new holder's alone");
  }
}
