package io.visualsearch.stack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.commons.io.FileUtils;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Debian's chromium, headless, driven through Debian's chromedriver, for the page tests: Selenium
 * is pointed at both binaries so it never looks for or downloads a driver. The browser gets its
 * own temporary directory, removed on {@link #close()}: chromium leaves files in TMPDIR that
 * quitting the driver does not remove.
 */
public final class HeadlessChromium implements AutoCloseable {

  public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  public static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

  private final Path tmp;
  private final ChromeDriver driver;

  private HeadlessChromium(Path tmp, ChromeDriver driver) {
    this.tmp = tmp;
    this.driver = driver;
  }

  /** Fails, never skips, when the Debian packages are missing: a page test that did not run proves nothing. */
  public static HeadlessChromium start() {
    if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
      throw new IllegalStateException("Debian packages chromium and chromium-driver are needed for the page tests"
          + " (./visual-search setup installs them): " + CHROMIUM + ", " + CHROMEDRIVER);
    }
    Path tmp;
    try {
      tmp = Files.createTempDirectory("headless-chromium-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-extensions", "--no-first-run", "--window-size=1400,900");
    // chromedriver's profile directory and chromium's own scratch files both follow TMPDIR.
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
        .usingAnyFreePort().withEnvironment(Map.of("TMPDIR", tmp.toString())).build();
    try {
      return new HeadlessChromium(tmp, new ChromeDriver(service, options));
    } catch (RuntimeException e) {
      delete(tmp);
      throw e;
    }
  }

  public ChromeDriver browser() {
    return driver;
  }

  @Override
  public void close() {
    try {
      driver.quit();
    } finally {
      delete(tmp);
    }
  }

  /** Best effort: a file chromium's last process is still closing must not fail the test that used it. */
  private static void delete(Path dir) {
    FileUtils.deleteQuietly(dir.toFile());
  }
}
