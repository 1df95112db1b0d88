package io.visualsearch.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FineTuneMainTest {

  @TempDir Path base;

  @Test
  void thePublishedVersionIsOneAboveTheNewestAndAnExistingOneIsNeverReplaced() throws Exception {
    Files.createDirectories(base.resolve("1"));
    Files.createDirectories(base.resolve("3"));
    Files.createDirectories(base.resolve(".3.staging"));
    Files.createDirectories(base.resolve("notes"));
    assertEquals(3, FineTuneMain.newestVersion(base));
    assertEquals(4, FineTuneMain.nextVersion(base, 1), "one above the newest, not above the baseline");
    assertEquals(6, FineTuneMain.nextVersion(base, 5), "one above a baseline newer than every version here");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> FineTuneMain.run(new String[] {"--base-path", base.toString(), "--version", "3"}, Map.of()));
    assertTrue(e.getMessage().contains("never replaced"), e.getMessage());
    assertTrue(Files.isDirectory(base.resolve("3")), "the existing version is untouched");
  }

  @Test
  void anEmptyBasePathHasNoVersions() throws Exception {
    assertEquals(0, FineTuneMain.newestVersion(base.resolve("missing")));
    assertEquals(2, FineTuneMain.nextVersion(base.resolve("missing"), 1));
  }

  @Test
  void aCatalogTenantIsRequiredToBeNamed() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> FineTuneMain.run(new String[] {"--base-path", base.toString(), "--catalog-tenant", " "}, Map.of()));
    assertTrue(e.getMessage().contains("--catalog-tenant needs a tenant"), e.getMessage());
  }
}
