package io.visualsearch.indexbuilder;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** A clock the test moves by hand. */
final class ManualClock extends Clock {

  private long ms = 1_000_000;

  void advance(Duration d) {
    ms += d.toMillis();
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }

  @Override
  public long millis() {
    return ms;
  }

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(ms);
  }
}
