package io.visualsearch.searchapi.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StaticFilesTest {

  @Test
  void aFilesValidatorFollowsItsContentAndNothingElse(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("app.js"), "console.log(1);", StandardCharsets.UTF_8);
    StaticFiles files = new StaticFiles(dir);
    StaticFiles.Asset first = files.get("/static/app.js");
    assertEquals(first.etag(), files.get("/static/app.js").etag(), "the same file, the same tag (on every replica)");
    assertTrue(first.etag().matches("\"[A-Za-z0-9_-]{22}\""), first.etag());
    Files.writeString(dir.resolve("app.js"), "console.log(2);", StandardCharsets.UTF_8);
    assertNotEquals(first.etag(), files.get("/static/app.js").etag(), "a changed file is downloaded again");
  }

  @Test
  void ifNoneMatchNamesTheVersionInAnyOfItsForms() {
    StaticFiles.Asset page = new StaticFiles(null).get("/");
    String tag = page.etag();
    assertTrue(page.matches(tag));
    assertTrue(page.matches("W/" + tag), "compared weakly: a proxy may have weakened it");
    assertTrue(page.matches("\"older\", " + tag));
    assertTrue(page.matches("*"));
    assertFalse(page.matches(null));
    assertFalse(page.matches("\"older\""));
    assertFalse(page.matches(tag.replace("\"", "")), "an unquoted tag is not the tag");
  }

  @Test
  void onlyThePagesFilesAreServed() {
    StaticFiles files = new StaticFiles(null);
    assertNull(files.get("/static/../pom.xml"));
    assertNull(files.get("/static/secret.txt"));
    assertEquals("text/html; charset=utf-8", files.get("/").contentType());
  }
}
