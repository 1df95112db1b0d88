package io.visualsearch.demo;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.stack.EmbeddedStack;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoFilesTest {

  /** The demo's default data directory, elsewhere than the directories these tests give it. */
  private static final Path DEFAULT = Path.of("data/stack");

  @TempDir
  Path dir;

  @Test
  void aDirectoryTheStackCreatedIsDeleted() throws Exception {
    Path stack = dir.resolve("stack");
    Files.createDirectories(stack.resolve("kafka"));
    Files.writeString(stack.resolve(EmbeddedStack.DATA_DIR_MARKER), "");
    Files.writeString(stack.resolve("kafka/meta.properties"), "node.id=1\n");
    DemoFiles.deleteStackData(stack, DEFAULT);
    assertFalse(Files.exists(stack));
  }

  @Test
  void anEmptyOrAbsentDirectoryIsFine() throws Exception {
    Path empty = Files.createDirectories(dir.resolve("empty"));
    DemoFiles.deleteStackData(empty, DEFAULT);
    DemoFiles.deleteStackData(dir.resolve("absent"), DEFAULT);
    assertFalse(Files.exists(empty));
  }

  @Test
  void aDirectoryHoldingOtherFilesIsRefusedAndKept() throws Exception {
    Path scratch = Files.createDirectories(dir.resolve("scratch"));
    Path precious = Files.writeString(scratch.resolve("thesis.tex"), "\\documentclass{article}\n");
    DemoFiles.NotStackData e = assertThrows(DemoFiles.NotStackData.class, () -> DemoFiles.deleteStackData(scratch, DEFAULT));
    assertTrue(e.getMessage().contains("STACK_DATA_DIR " + scratch), e.getMessage());
    assertTrue(Files.exists(precious));
  }

  @Test
  void theDemosOwnDefaultDirectoryIsDeletedThoughAnEarlierDemoLeftItWithoutTheMarker() throws Exception {
    Path stack = Files.createDirectories(dir.resolve("data/stack/kafka"));
    Files.writeString(stack.resolve("meta.properties"), "node.id=1\n");
    DemoFiles.deleteStackData(dir.resolve("data/stack"), dir.resolve("data/stack"));
    assertFalse(Files.exists(dir.resolve("data/stack")));
  }
}
