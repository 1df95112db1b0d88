package io.visualsearch.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CI-sized fault test: a real multi-process cluster (free ports, temporary directory), two
 * retailers of 40 products, three SIGKILLs of random service processes mid-ingest with a feed
 * change among them; the exact reconciliation must find every feed product, nothing stale, nothing
 * duplicated, and no query may fail outside a declared outage. Recovery times are printed, never
 * asserted. The long suite ({@code ./visual-search chaos}) stays outside CI.
 */
class ITKillReconciliation {

  private static final Pattern SUMMARY = Pattern.compile(
      "expected=(\\d+) found=(\\d+) lost=(\\d+) stale=(\\d+) duplicate=(\\d+) failed_queries=(\\d+)\\s*$");

  @Test
  void threeKillsMidIngestLoseNothing(@TempDir Path data) throws Exception {
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(new TeeStream(captured, System.out), true, StandardCharsets.UTF_8);
    Args args = new Args(new String[] {"--kills", "3", "--size", "40", "--scenarios", "kill", "--seed", "42",
        "--data", data.toString(), "--converge-timeout", "5m", "--query-threads", "1"}, Set.of("kills", "size",
        "scenarios", "seed", "data", "converge-timeout", "query-threads"));
    boolean passed = ChaosMain.run(args, new RepoLayout(Path.of(System.getProperty("repoRoot", ".."))), out);

    String[] lines = captured.toString(StandardCharsets.UTF_8).trim().split("\n");
    Matcher m = SUMMARY.matcher(lines[lines.length - 1]);
    assertTrue(m.find(), "last line is the reconciliation summary: " + lines[lines.length - 1]);
    // 2 tenants × (40 products, then two feed changes each removing 2 and adding 3).
    assertEquals("84", m.group(1), "expected products");
    assertEquals(m.group(1), m.group(2), "every feed product is in the published index");
    assertEquals("0", m.group(3), "lost");
    assertEquals("0", m.group(4), "stale");
    assertEquals("0", m.group(5), "duplicate");
    assertEquals("0", m.group(6), "failed queries");
    assertTrue(passed, "the suite reports success");
  }

  private static final class TeeStream extends java.io.OutputStream {
    private final java.io.OutputStream a;
    private final java.io.OutputStream b;

    TeeStream(java.io.OutputStream a, java.io.OutputStream b) {
      this.a = a;
      this.b = b;
    }

    @Override
    public void write(int x) throws java.io.IOException {
      a.write(x);
      b.write(x);
    }

    @Override
    public void write(byte[] buf, int off, int len) throws java.io.IOException {
      a.write(buf, off, len);
      b.write(buf, off, len);
    }
  }
}
