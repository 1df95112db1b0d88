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

  /**
   * A one-shot sync run with `kubectl exec` in a downloader's pod inherits the pod's instance id:
   * as the lease's owner it took over the pod's running sync of the tenant at once, as if left by
   * a dead run, and both sent changes until the loser's next renewal.
   */
  @Test
  void aOneShotSyncInTheServicesPodIsBusyWhileTheServiceSyncsTheTenant(EmbeddedStack stack,
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path feeds) throws Exception {
    java.nio.file.Files.writeString(feeds.resolve("feed.tsv"), "id\ttitle\n");
    java.util.Map<String, String> env = new java.util.HashMap<>(stack.serviceEnvironment());
    env.put("SERVICE_INSTANCE_ID", "catalog-downloader-7");
    env.put("CATALOG_FILE_FEED_ROOT", feeds.toString());
    env.put("CATALOG_SPOOL_DIR", feeds.resolve("spool").toString());
    // The pod's ops port, which its running service holds: the job must not need it.
    try (java.net.ServerSocket podsOpsPort = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        SyncLeases.Lease running = leases("catalog-downloader-7", Duration.ofMinutes(2)).acquire("lease-exec")) {
      env.put("OPS_HOST", "127.0.0.1");
      env.put("OPS_PORT", Integer.toString(podsOpsPort.getLocalPort()));
      int exit = OneShotSync.run(new String[] {"sync", "lease-exec", feeds.resolve("feed.tsv").toUri().toString()}, env);
      org.junit.jupiter.api.Assertions.assertEquals(OneShotSync.BUSY, exit);
      assertTrue(running.held(), "the service's sync keeps its tenant");
    }
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
    // Renewed every third of it; held while the last renewal has more than a third left, so a
    // store call stalling a few seconds on a loaded machine does not lose it here.
    Duration ttl = Duration.ofSeconds(6);
    long acquiredAtMs = System.currentTimeMillis();
    try (SyncLeases.Lease held = leases("long-sync", ttl).acquire("lease-renewed")) {
      // Stored as running out beyond two lifetimes from the start: renewed after its first one ended.
      await().atMost(Duration.ofSeconds(60)).until(() -> storedExpiryMs("lease-renewed") > acquiredAtMs + 2 * ttl.toMillis());
      assertTrue(held.held());
      assertThrows(SyncLeases.BusyException.class, () -> leases("another", ttl).acquire("lease-renewed"));
    }
  }

  private long storedExpiryMs(String tenant) {
    String lease = new String(store.get(SyncLeases.key(tenant)).orElseThrow().bytes(), StandardCharsets.UTF_8);
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"expires_at_ms\":(\\d+)").matcher(lease);
    assertTrue(m.find(), lease);
    return Long.parseLong(m.group(1));
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
