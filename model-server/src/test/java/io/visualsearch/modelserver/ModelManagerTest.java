package io.visualsearch.modelserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.modelserver.VersionStatusBook.State;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import org.apache.commons.io.file.PathUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.ConfigProto;

/**
 * Version policy and lifecycle on real SavedModels, driving {@link ModelManager#scan()} directly
 * (the poll interval is an hour) so every step is deterministic.
 */
class ModelManagerTest {

  private static final Duration NEVER = Duration.ofHours(1);

  @TempDir
  Path base;

  @Test
  void aRetiredVersionStaysOpenUntilItsLastRequestEnds() throws Exception {
    TestSavedModels.exportVersion(base, "default", 1);
    try (ModelManager m = new ModelManager("default", base, OptionalLong.empty(), NEVER)) {
      m.start();
      ServableVersion.Lease inFlight = m.acquire("default", OptionalLong.empty());
      ServableVersion v1 = inFlight.version();
      assertEquals(1, v1.version());

      TestSavedModels.exportVersion(base, "default", 2);
      m.scan();

      try (ServableVersion.Lease next = m.acquire("default", OptionalLong.empty())) {
        assertEquals(2, next.version().version());
      }
      assertFalse(v1.closedFuture().isDone(), "v1 closed under a running request");
      assertEquals(State.UNLOADING, stateOf(m, 1));
      assertThrows(ServingException.class, () -> m.acquire("default", OptionalLong.of(1)));

      inFlight.close();
      v1.closedFuture().get(10, TimeUnit.SECONDS);
      assertEquals(State.END, stateOf(m, 1));
      assertEquals(State.AVAILABLE, stateOf(m, 2));
    }
  }

  @Test
  void versionZeroIsNotServed() throws Exception {
    // 0 is what a record or a response without a version says: served, it would pass for any.
    TestSavedModels.exportVersion(base, "default", 0);
    TestSavedModels.exportVersion(base, "default", 1);
    try (ModelManager m = new ModelManager("default", base, OptionalLong.empty(), NEVER, 2)) {
      m.start();
      assertEquals(OptionalLong.of(1), m.currentVersion());
      assertThrows(ServingException.class, () -> m.acquire("default", OptionalLong.of(0)).close());
    }
  }

  @Test
  void withTwoServedVersionsThePreviousOneAnswersUntilAThirdArrives() throws Exception {
    TestSavedModels.exportVersion(base, "default", 1);
    try (ModelManager m = new ModelManager("default", base, OptionalLong.empty(), NEVER, 2)) {
      m.start();
      TestSavedModels.exportVersion(base, "default", 2);
      m.scan();
      assertEquals(OptionalLong.of(2), m.currentVersion());
      try (ServableVersion.Lease pinned = m.acquire("default", OptionalLong.of(1))) {
        assertEquals(1, pinned.version().version(), "an index of version 1 can still embed its queries");
      }
      assertEquals(State.AVAILABLE, stateOf(m, 1));

      TestSavedModels.exportVersion(base, "default", 3);
      m.scan();
      assertEquals(OptionalLong.of(3), m.currentVersion());
      try (ServableVersion.Lease pinned = m.acquire("default", OptionalLong.of(2))) {
        assertEquals(2, pinned.version().version());
      }
      assertThrows(ServingException.class, () -> m.acquire("default", OptionalLong.of(1)));

      // Rolling back by deleting the newest version makes the kept previous one the default, unreloaded.
      PathUtils.deleteDirectory(base.resolve("default/3"));
      m.scan();
      assertEquals(OptionalLong.of(2), m.currentVersion());
      assertThrows(ServingException.class, () -> m.acquire("default", OptionalLong.of(3)));
      try (ServableVersion.Lease pinned = m.acquire("default", OptionalLong.of(1))) {
        assertEquals(1, pinned.version().version(), "the two newest on disk are served again, as on a fresh start");
      }
    }
  }

  @Test
  void aServerStartedWithSeveralVersionsOnDiskServesTheNewestOnesNotTheLatestAlone() throws Exception {
    for (long v = 1; v <= 3; v++) {
      TestSavedModels.exportVersion(base, "default", v);
    }
    // A restart in the middle of a model rollout: indexes built with version 2 are still served.
    try (ModelManager m = new ModelManager("default", base, OptionalLong.empty(), NEVER, 2)) {
      m.start();
      assertEquals(OptionalLong.of(3), m.currentVersion());
      try (ServableVersion.Lease pinned = m.acquire("default", OptionalLong.of(2))) {
        assertEquals(2, pinned.version().version());
      }
      assertEquals(State.AVAILABLE, stateOf(m, 2));
      assertThrows(ServingException.class, () -> m.acquire("default", OptionalLong.of(1)), "beyond the two served");
      ServableVersion servedBefore = servable(m, 2);
      m.scan();
      assertEquals(State.AVAILABLE, stateOf(m, 2));
      assertSame(servedBefore, servable(m, 2), "a rescan keeps the loaded version, without reloading it");
      assertFalse(servedBefore.closedFuture().isDone());
    }
    try (ModelManager pinned = new ModelManager("default", base, OptionalLong.of(2), NEVER, 2)) {
      pinned.start();
      assertEquals(OptionalLong.of(2), pinned.currentVersion());
      assertThrows(ServingException.class, () -> pinned.acquire("default", OptionalLong.of(1)),
          "a pin serves exactly its version");
    }
  }

  @Test
  void aBrokenVersionDoesNotReplaceAWorkingOneAndIsReportedUntilFixed() throws Exception {
    TestSavedModels.exportVersion(base, "default", 1);
    try (ModelManager m = new ModelManager("default", base, OptionalLong.empty(), NEVER)) {
      m.start();
      Path broken = Files.createDirectories(base.resolve("default/2"));
      Files.write(broken.resolve("saved_model.pb"), new byte[] {1, 2, 3});
      m.scan();

      assertEquals(OptionalLong.of(1), m.currentVersion());
      VersionStatusBook.Entry failed = m.statuses().stream().filter(e -> e.version() == 2).findFirst().orElseThrow();
      assertEquals(State.END, failed.state());
      assertFalse(failed.error().isEmpty());
      assertTrue(m.check().ok());

      // Replacing the files is what triggers a retry.
      PathUtils.deleteDirectory(broken);
      TestSavedModels.exportVersion(base, "default", 2);
      m.scan();
      assertEquals(OptionalLong.of(2), m.currentVersion());
    }
  }

  @Test
  void aPinnedVersionIsServedEvenWhenNewerOnesExist() throws Exception {
    TestSavedModels.exportVersion(base, "default", 1);
    TestSavedModels.exportVersion(base, "default", 2);
    try (ModelManager m = new ModelManager("default", base, OptionalLong.of(1), NEVER)) {
      m.start();
      assertEquals(OptionalLong.of(1), m.currentVersion());
      TestSavedModels.exportVersion(base, "default", 3);
      m.scan();
      assertEquals(OptionalLong.of(1), m.currentVersion());
    }
  }

  @Test
  void aChosenDefaultRollsBackWhileTheWithdrawnVersionStillAnswersItsIndexes() throws Exception {
    TestSavedModels.exportVersion(base, "default", 1);
    TestSavedModels.exportVersion(base, "default", 2);
    try (ModelManager m = new ModelManager("default", base, VersionPolicy.byDefault(1), NEVER, 2,
        ConfigProto.getDefaultInstance())) {
      m.start();
      assertEquals(OptionalLong.of(1), m.currentVersion(), "requests naming no version (the generator's) get 1");
      try (ServableVersion.Lease withdrawn = m.acquire("default", OptionalLong.of(2))) {
        assertEquals(2, withdrawn.version().version(), "indexes built with 2 still embed their queries");
      }

      // A third version while rolled back: 1 stays the default, the newest other is served beside it.
      TestSavedModels.exportVersion(base, "default", 3);
      m.scan();
      assertEquals(OptionalLong.of(1), m.currentVersion());
      try (ServableVersion.Lease newest = m.acquire("default", OptionalLong.of(3))) {
        assertEquals(3, newest.version().version());
      }
      assertThrows(ServingException.class, () -> m.acquire("default", OptionalLong.of(2)), "two served in all");

      // The withdrawn versions deleted once the indexes are rebuilt with 1.
      ServableVersion defaultBefore = servable(m, 1);
      PathUtils.deleteDirectory(base.resolve("default/3"));
      PathUtils.deleteDirectory(base.resolve("default/2"));
      m.scan();
      assertEquals(OptionalLong.of(1), m.currentVersion());
      assertEquals(State.AVAILABLE, stateOf(m, 1));
      assertSame(defaultBefore, servable(m, 1), "the default was never reloaded");
      assertFalse(defaultBefore.closedFuture().isDone());
      assertThrows(ServingException.class, () -> m.acquire("default", OptionalLong.of(3)));
    }
  }

  @Test
  void aChosenVersionThatIsNotOnDiskIsNamedByTheCheck() throws Exception {
    TestSavedModels.exportVersion(base, "default", 1);
    try (ModelManager m = new ModelManager("default", base, VersionPolicy.byDefault(4), NEVER, 2,
        ConfigProto.getDefaultInstance())) {
      m.start();
      assertEquals(OptionalLong.empty(), m.currentVersion(), "a default that is not there is not replaced by another");
      assertFalse(m.check().ok());
      assertTrue(m.check().detail().contains("the chosen version 4 is not on disk (found [1])"), m.check().detail());
    }
  }

  @Test
  void removingTheServedVersionFallsBackToTheNextHighest() throws Exception {
    TestSavedModels.exportVersion(base, "default", 1);
    Path v2 = TestSavedModels.exportVersion(base, "default", 2);
    try (ModelManager m = new ModelManager("default", base, OptionalLong.empty(), NEVER)) {
      m.start();
      assertEquals(OptionalLong.of(2), m.currentVersion());
      PathUtils.deleteDirectory(v2);
      m.scan();
      assertEquals(OptionalLong.of(1), m.currentVersion());
    }
  }

  @Test
  void aModelDirectoryMissingForAMomentUnloadsNothing() throws Exception {
    TestSavedModels.exportVersion(base, "default", 1);
    try (ModelManager m = new ModelManager("default", base, OptionalLong.empty(), NEVER)) {
      m.start();
      Path away = Files.move(base.resolve("default"), base.resolve("default.old"));
      m.scan();
      assertEquals(OptionalLong.of(1), m.currentVersion(), "a remount or a swap by rename is no removal");
      assertTrue(m.check().detail().contains("does not exist"), m.check().detail());
      Files.move(away, base.resolve("default"));
      m.scan();
      assertEquals(State.AVAILABLE, stateOf(m, 1));
    }
  }

  @Test
  void everyVersionLoadsWithTheGivenSessionOptions() throws Exception {
    TestSavedModels.exportVersion(base, "default", 1);
    ConfigProto onePerPool = ConfigProto.newBuilder().setIntraOpParallelismThreads(1)
        .setInterOpParallelismThreads(1).build();
    try (ModelManager m = new ModelManager("default", base, VersionPolicy.latest(), NEVER, 1, onePerPool)) {
      m.start();
      assertEquals(State.AVAILABLE, stateOf(m, 1));
    }
    // Options TensorFlow cannot honour (no CPU device) fail the load: they do reach TensorFlow.
    ConfigProto noCpu = ConfigProto.newBuilder().putDeviceCount("CPU", 0).build();
    try (ModelManager m = new ModelManager("default", base, VersionPolicy.latest(), NEVER, 1, noCpu)) {
      m.start();
      assertEquals(OptionalLong.empty(), m.currentVersion());
      assertFalse(m.check().ok());
    }
  }

  @Test
  void withoutAnyVersionTheManagerIsNotReadyAndSaysWhere() {
    try (ModelManager m = new ModelManager("default", base, OptionalLong.empty(), NEVER)) {
      m.start();
      assertFalse(m.check().ok());
      assertTrue(m.check().detail().contains(base.resolve("default").toString()), m.check().detail());
      ServingException e = assertThrows(ServingException.class, () -> m.acquire("default", OptionalLong.empty()));
      assertEquals(ServingException.Reason.UNAVAILABLE, e.reason());
    }
  }

  private static State stateOf(ModelManager m, long version) {
    return m.statuses().stream().filter(e -> e.version() == version).findFirst().orElseThrow().state();
  }

  /** The loaded instance serving {@code version}; the lease is returned at once. */
  private static ServableVersion servable(ModelManager m, long version) {
    try (ServableVersion.Lease lease = m.acquire("default", OptionalLong.of(version))) {
      return lease.version();
    }
  }
}
