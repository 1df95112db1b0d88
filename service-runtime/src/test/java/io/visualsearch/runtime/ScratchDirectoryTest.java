package io.visualsearch.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScratchDirectoryTest {

  @TempDir
  Path root;

  /** A directory and owner file as an instance leaves them when it dies mid-download. */
  Path leftover(String id, String owner) throws Exception {
    Path dir = Files.createDirectories(root.resolve("instance-" + id));
    Files.write(dir.resolve("acme-v1-shard-000.vectors"), new byte[4096]);
    Files.writeString(root.resolve("instance-" + id + ".owner"), owner);
    return dir;
  }

  List<String> names() throws Exception {
    try (Stream<Path> s = Files.list(root)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void anInstanceClaimsItsOwnDirectoryAndRemovesItAtClose() throws Exception {
    ScratchDirectory scratch = new ScratchDirectory(root);
    scratch.start();
    assertTrue(Files.isDirectory(scratch.path()));
    assertTrue(scratch.check().ok());
    scratch.close();
    assertEquals(List.of(), names());
  }

  @Test
  void whatADeadProcessLeftIsRemovedAtStartAndLiveInstancesAreKept() throws Exception {
    Process finished = new ProcessBuilder("true").start();
    finished.waitFor();
    Path dead = leftover("dead", finished.pid() + " 2026-12-05T08:00:00Z");
    // The same pid as this JVM but another start time: the predecessor of a restarted container.
    Path predecessor = leftover("predecessor", ProcessHandle.current().pid() + " 2000-01-01T00:00:00Z");
    Path foreign = leftover("foreign", "written by something else");
    ScratchDirectory live = new ScratchDirectory(root);
    live.start();
    ScratchDirectory next = new ScratchDirectory(root);
    next.start();
    try {
      assertFalse(Files.exists(dead), "a dead process's download is removed");
      assertFalse(Files.exists(root.resolve("instance-dead.owner")));
      assertFalse(Files.exists(predecessor), "a restarted container's predecessor is gone too");
      assertTrue(Files.exists(foreign), "an owner file it cannot read is not its to judge");
      assertTrue(Files.isDirectory(live.path()), "a running instance keeps its directory");
    } finally {
      next.close();
      live.close();
    }
    assertEquals(List.of("instance-foreign", "instance-foreign.owner"), names());
  }
}
