package io.visualsearch.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * What the machine was doing when a benchmark ran: cores, load averages and this process's peak
 * resident memory, read from /proc. Benchmarks print it in their header and at the end, because
 * on a shared machine a number without its load is not comparable to anything.
 */
public record MachineLoad(int cores, String loadAverages, long peakRssBytes) {

  public static MachineLoad now() {
    return new MachineLoad(Runtime.getRuntime().availableProcessors(), readLoadAverages(), readPeakRss());
  }

  /** One header line: what was measured, when, and under what load. */
  public String header(String measured) {
    return String.format("# %s | %s | cores=%d load(1/5/15m)=%s | java %s, max heap %d MiB",
        measured, Instant.now().truncatedTo(ChronoUnit.SECONDS), cores, loadAverages,
        System.getProperty("java.version"), Runtime.getRuntime().maxMemory() >> 20);
  }

  /** The first three fields of /proc/loadavg, or "unknown" off Linux. */
  private static String readLoadAverages() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + "/" + f[1] + "/" + f[2];
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }

  /** VmHWM of /proc/self/status: the most resident memory this process has had, in bytes; -1 if unknown. */
  private static long readPeakRss() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      // fall through
    }
    return -1;
  }
}
