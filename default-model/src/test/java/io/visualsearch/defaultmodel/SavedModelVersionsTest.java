package io.visualsearch.defaultmodel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SavedModelVersionsTest {

  @TempDir
  Path base;

  private static Path model(Path dir, String graph) throws Exception {
    Files.createDirectories(dir.resolve("variables"));
    Files.writeString(dir.resolve("saved_model.pb"), graph);
    Files.writeString(dir.resolve("variables/variables.index"), "index");
    return dir;
  }

  private static Object identity(Path dir) throws Exception {
    return Files.readAttributes(dir, BasicFileAttributes.class).fileKey();
  }

  @Test
  void aRebuildOfTheSameModelLeavesTheServedVersionInPlace() throws Exception {
    // A model server polling the base directory saw the version leave and come back, and unloaded it.
    Path served = model(base.resolve("1"), "graph");
    Object before = identity(served);
    FileTime written = Files.getLastModifiedTime(served.resolve("saved_model.pb"));
    Path staging = model(SavedModelVersions.stagingDir(base, 1), "graph");
    SavedModelVersions.publish(staging, served);
    assertEquals(before, identity(served), "the same directory, never moved");
    assertEquals(written, Files.getLastModifiedTime(served.resolve("saved_model.pb")));
    assertFalse(Files.exists(staging));
  }

  @Test
  void anotherModelReplacesTheVersion() throws Exception {
    Path served = model(base.resolve("1"), "graph");
    Path staging = model(SavedModelVersions.stagingDir(base, 1), "another graph");
    SavedModelVersions.publish(staging, served);
    assertEquals("another graph", Files.readString(served.resolve("saved_model.pb")));
    try (Stream<Path> left = Files.list(base)) {
      assertEquals(1, left.count(), "no staging or retired copy left");
    }
  }

  @Test
  void copiesLeftByKilledExportsAreRemovedButNotALiveOnes() throws Exception {
    long gone = 9_000_000_000L; // above any pid_max (2^22): no such process
    Path deadStaging = model(base.resolve(".1.staging-" + gone), "half");
    Path deadRetired = model(base.resolve(".1.retired-" + gone), "old");
    Path live = model(base.resolve(".2.staging-" + ProcessHandle.current().pid()), "in progress");
    SavedModelVersions.removeLeftovers(base);
    assertFalse(Files.exists(deadStaging));
    assertFalse(Files.exists(deadRetired));
    assertTrue(Files.exists(live), "a running export's own");
  }
}
