package io.visualsearch.searchapi.http;

import java.time.Duration;

/**
 * The slowest an upload may arrive and still be read on a request thread: on average at least
 * {@code minBytesPerSecond} since the read began, after a {@code grace} in which nothing need
 * arrive (Apache's mod_reqtimeout counts the same way: each byte received buys time). A client
 * that sent ahead of the pace may pause on that credit; one that trickles is cut off once it falls
 * behind, however often a byte keeps the connection's idle timeout from firing.
 */
record UploadPace(long minBytesPerSecond, Duration grace) {

  /**
   * 8 KiB/s (64 kbit/s): a quarter of the upload of the slowest mobile profile browser test tools
   * use (WebPageTest's "2G", 256 kbit/s, which sends a 10 MiB photo in about 5.5 minutes); at
   * exactly this pace the largest accepted upload (10 MiB) takes about 21 minutes and is still read.
   * Holding all of the API's ~100 request threads this way takes ~6.5 Mbit/s of real data, where one
   * byte every 25 s on each connection had been enough.
   */
  static final UploadPace SHOPPERS = new UploadPace(8 * 1024, Duration.ofSeconds(10));

  UploadPace {
    if (minBytesPerSecond <= 0 || grace.isNegative()) {
      throw new IllegalArgumentException("an upload pace needs a positive rate and a grace of zero or more");
    }
  }

  /**
   * The {@link System#nanoTime()} by which the next bytes must arrive, for a read that began at
   * {@code startNanos} and has received {@code received} bytes so far.
   */
  long deadlineNanos(long startNanos, long received) {
    // received is at most a few times the upload cap; the bound only keeps the product in a long.
    long paid = Math.min(received, Long.MAX_VALUE / 2_000_000_000L) * 1_000_000_000L / minBytesPerSecond;
    return startNanos + grace.toNanos() + paid;
  }
}
