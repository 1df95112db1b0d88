package io.visualsearch.demo;

import java.time.Duration;

/** {@code ./visual-search demo [--exit-after-ingest] [--size N] [--keep-data] [--timeout MINUTES]}. */
record DemoOptions(boolean exitAfterIngest, int size, boolean keepData, Duration timeout) {

  static final String USAGE = "usage: ./visual-search demo [--exit-after-ingest] [--size N (1..60000, default 500)]"
      + " [--keep-data] [--timeout MINUTES (default 15)]";

  static DemoOptions parse(String[] args) {
    boolean exit = false;
    boolean keep = false;
    int size = 500;
    Duration timeout = Duration.ofMinutes(15);
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--exit-after-ingest" -> exit = true;
        case "--keep-data" -> keep = true;
        case "--size" -> size = number(args, ++i, "--size");
        case "--timeout" -> timeout = Duration.ofMinutes(number(args, ++i, "--timeout"));
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (size < 1 || size > 60_000) {
      throw new IllegalArgumentException("--size must be within 1..60000 (the training split)");
    }
    return new DemoOptions(exit, size, keep, timeout);
  }

  private static int number(String[] args, int i, String option) {
    if (i >= args.length) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    try {
      return Integer.parseInt(args[i]);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " needs a number, got " + args[i]);
    }
  }
}
