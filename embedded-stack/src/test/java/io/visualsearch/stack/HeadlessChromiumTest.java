package io.visualsearch.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class HeadlessChromiumTest {

  @Test
  void rendersAPageAndLeavesNothingInTheSharedTemporaryDirectory() throws IOException {
    Path shared = Path.of(System.getProperty("java.io.tmpdir"));
    Set<String> before = chromiumLeftovers(shared);
    try (HeadlessChromium chromium = HeadlessChromium.start()) {
      chromium.browser().get("data:text/html,<title>rendered</title><p>ok</p>");
      assertEquals("rendered", chromium.browser().getTitle());
    }
    assertEquals(before, chromiumLeftovers(shared), "chromium's scratch files stay in the fixture's own directory");
  }

  /** Profiles and scratch directories chromium and chromedriver create under TMPDIR, plus the fixture's own. */
  static Set<String> chromiumLeftovers(Path dir) throws IOException {
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.map(p -> p.getFileName().toString())
          .filter(n -> n.contains("chromium") || n.contains("Chromium") || n.startsWith("scoped_dir"))
          .collect(Collectors.toSet());
    }
  }
}
