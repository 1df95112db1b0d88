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

  @TempDir
  Path dir;

  @Test
  void aDirectoryTheStackCreatedIsDeleted() throws Exception {
    Path stack = dir.resolve("stack");
    Files.createDirectories(stack.resolve("kafka"));
    Files.writeString(stack.resolve(EmbeddedStack.DATA_DIR_MARKER), "");
    Files.writeString(stack.resolve("kafka/meta.properties"), "node.id=1\n");
    DemoFiles.deleteStackData(stack);
    assertFalse(Files.exists(stack));
  }

  @Test
  void anEmptyOrAbsentDirectoryIsFine() throws Exception {
    Path empty = Files.createDirectories(dir.resolve("empty"));
    DemoFiles.deleteStackData(empty);
    DemoFiles.deleteStackData(dir.resolve("absent"));
    assertFalse(Files.exists(empty));
  }

  @Test
  void aDirectoryHoldingOtherFilesIsRefusedAndKept() throws Exception {
    Path scratch = Files.createDirectories(dir.resolve("scratch"));
    Path precious = Files.writeString(scratch.resolve("thesis.tex"), "\\documentclass{article}\n");
    DemoFiles.NotStackData e = assertThrows(DemoFiles.NotStackData.class, () -> DemoFiles.deleteStackData(scratch));
    assertTrue(e.getMessage().contains("STACK_DATA_DIR " + scratch), e.getMessage());
    assertTrue(Files.exists(precious));
  }
}
