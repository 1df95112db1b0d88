package io.visualsearch.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run deletes its data directory: only one that is provably a run's. */
class ClusterSessionTest {

  @TempDir Path tmp;

  @Test
  void aDirectoryHoldingSomethingElseIsRefusedAndKept() throws Exception {
    Path repo = Files.createDirectories(tmp.resolve("repo"));
    Path data = Files.createDirectories(tmp.resolve("notes"));
    Files.writeString(data.resolve("thesis.tex"), "years of work");

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClusterSession.clearDataDir(data, repo));
    assertTrue(e.getMessage().contains("thesis.tex"), e.getMessage());
    assertEquals("years of work", Files.readString(data.resolve("thesis.tex")));
  }

  @Test
  void theRepositoryAndItsAncestorsAreRefused() throws Exception {
    Path repo = Files.createDirectories(tmp.resolve("repo"));
    Files.writeString(repo.resolve("pom.xml"), "<project/>");
    // even marked: --data . from the checkout must never wipe it
    Files.writeString(repo.resolve(ClusterSession.MARKER), "");

    assertThrows(IllegalArgumentException.class, () -> ClusterSession.clearDataDir(repo, repo));
    assertThrows(IllegalArgumentException.class, () -> ClusterSession.clearDataDir(repo.resolve("data/.."), repo));
    assertThrows(IllegalArgumentException.class, () -> ClusterSession.clearDataDir(tmp, repo));
    assertTrue(Files.exists(repo.resolve("pom.xml")));
  }

  @Test
  void aMarkedDirectoryIsClearedAndANewOneMarked() throws Exception {
    Path repo = Files.createDirectories(tmp.resolve("repo"));
    Path data = repo.resolve("data/cluster-chaos");

    ClusterSession.clearDataDir(data, repo);
    assertTrue(Files.exists(data.resolve(ClusterSession.MARKER)), "a new directory is marked as the run's");
    Files.createDirectories(data.resolve("logs"));
    Files.writeString(data.resolve("logs/kafka.log"), "old run");
    Files.writeString(data.resolve("leftover.bin"), "old run");

    ClusterSession.clearDataDir(data, repo);
    assertFalse(Files.exists(data.resolve("logs")));
    assertFalse(Files.exists(data.resolve("leftover.bin")));
    assertTrue(Files.exists(data.resolve(ClusterSession.MARKER)));
  }

  @Test
  void anUnmarkedDirectoryHoldingOnlyWhatARunWritesIsAnEarlierRunsAndCleared() throws Exception {
    Path repo = Files.createDirectories(tmp.resolve("repo"));
    Path data = Files.createDirectories(repo.resolve("data/cluster"));
    Files.createDirectories(data.resolve("stack/kafka"));
    Files.createDirectories(data.resolve("feeds"));

    ClusterSession.clearDataDir(data, repo);
    assertFalse(Files.exists(data.resolve("stack")));
    assertTrue(Files.exists(data.resolve(ClusterSession.MARKER)));
  }
}
