package io.visualsearch.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resident set size of a process from {@code /proc/<pid>/status} (VmRSS, kB): what the kernel charges it. */
public final class ProcessRss {

  private ProcessRss() {}

  public static long kilobytes(long pid) throws IOException {
    return parse(Files.readString(Path.of("/proc", Long.toString(pid), "status")));
  }

  static long parse(String status) {
    for (String line : status.split("\n")) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
      }
    }
    throw new IllegalArgumentException("no VmRSS line in /proc status");
  }
}
