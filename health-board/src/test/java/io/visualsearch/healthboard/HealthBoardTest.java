package io.visualsearch.healthboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.proto.events.Heartbeat;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class HealthBoardTest {

  final MutableClock clock = new MutableClock(Instant.parse("2026-11-22T10:00:00Z"));
  final HealthBoard board = new HealthBoard(clock, 3, Duration.ofMinutes(5));
  static final ReaderStatus READING = new ReaderStatus(true, "reading 1 partitions", 1);

  Heartbeat beat(String service, String instance, long activity, long errors, long dlq, boolean ready) {
    return Heartbeat.newBuilder().setService(service).setInstance(instance).setTimestampMs(clock.millis())
        .setActivityTotal(activity).setErrorTotal(errors).setDlqTotal(dlq).setLastActivityMs(clock.millis())
        .setConsumerLag(7).setReady(ready).setIntervalMs(5_000).build();
  }

  HealthRow only() {
    List<HealthRow> rows = board.rows();
    assertEquals(1, rows.size());
    return rows.get(0);
  }

  @Test
  void activityIsBookedToTheMinuteItHappenedIn() {
    board.accept(beat("image-indexer", "a", 0, 0, 0, true));
    clock.advance(Duration.ofSeconds(5));
    board.accept(beat("image-indexer", "a", 40, 0, 0, true));
    clock.advance(Duration.ofMinutes(1));
    board.accept(beat("image-indexer", "a", 100, 0, 0, true));
    HealthRow r = only();
    long[] spark = r.sparkline();
    assertEquals(60, spark.length);
    assertEquals(60, spark[59], "the current minute");
    assertEquals(40, spark[58], "the minute before");
    assertEquals(100, Arrays.stream(spark).sum());
    assertEquals(HealthState.HEALTHY, r.state());
    assertEquals(100, r.activityTotal());
    assertEquals(7, r.consumerLag());
  }

  @Test
  void aSilentInstanceTurnsStaleAfterTheConfiguredNumberOfIntervals() {
    board.accept(beat("embeddings-generator", "b", 5, 0, 0, true));
    clock.advance(Duration.ofSeconds(15));
    assertEquals(HealthState.HEALTHY, only().state(), "three intervals is still on time");
    clock.advance(Duration.ofMillis(1));
    HealthRow r = only();
    assertEquals(HealthState.STALE, r.state());
    assertTrue(r.reason().contains("no heartbeat"), r.reason());
  }

  @Test
  void aBeatStampedInTheFutureCountsAsHeardNowAndTheInstanceStillTurnsStale() {
    board.accept(beat("image-indexer", "f", 1, 0, 0, true).toBuilder()
        .setTimestampMs(clock.millis() + Duration.ofDays(1).toMillis()).build());
    clock.advance(Duration.ofSeconds(5));
    board.accept(beat("image-indexer", "f", 2, 0, 0, true));
    assertEquals(HealthState.HEALTHY, only().state(), "the next real beat is not taken for a late duplicate");
    clock.advance(Duration.ofMinutes(1));
    assertEquals(HealthState.STALE, only().state(), "silent for a minute: stale, not alive until tomorrow");
  }

  @Test
  void notReadyOrRecentErrorsMeanFailingUntilTheWindowPasses() {
    board.accept(beat("catalog-downloader", "c", 10, 0, 0, false));
    assertEquals(HealthState.FAILING, only().state());
    clock.advance(Duration.ofSeconds(5));
    board.accept(beat("catalog-downloader", "c", 10, 0, 0, true));
    assertEquals(HealthState.HEALTHY, only().state());
    clock.advance(Duration.ofSeconds(5));
    board.accept(beat("catalog-downloader", "c", 11, 0, 2, true));
    assertEquals(HealthState.FAILING, only().state(), "two dead letters just now");
    assertTrue(only().reason().startsWith("0 errors, 2 dead letters"), only().reason());
    for (int i = 0; i < 59; i++) {
      clock.advance(Duration.ofSeconds(5));
      board.accept(beat("catalog-downloader", "c", 11, 0, 2, true));
    }
    assertEquals(HealthState.FAILING, only().state(), "4 min 55 s later: still within the 5-minute window");
    for (int i = 0; i < 13; i++) {
      clock.advance(Duration.ofSeconds(5));
      board.accept(beat("catalog-downloader", "c", 11, 0, 2, true));
    }
    assertEquals(HealthState.HEALTHY, only().state(), "six quiet minutes later");
  }

  @Test
  void theFailingWindowIsNeverShorterThanConfigured() {
    clock.advance(Duration.ofSeconds(58)); // 10:00:58
    board.accept(beat("image-indexer", "w", 10, 0, 0, true));
    clock.advance(Duration.ofSeconds(1)); // 10:00:59: a dead letter
    board.accept(beat("image-indexer", "w", 11, 1, 1, true));
    for (int i = 0; i < 48; i++) { // quiet beats up to 10:04:59
      clock.advance(Duration.ofSeconds(5));
      board.accept(beat("image-indexer", "w", 11, 1, 1, true));
    }
    clock.advance(Duration.ofSeconds(2));
    assertEquals(Instant.parse("2026-11-22T10:05:01Z"), clock.instant());
    HealthRow r = only();
    assertEquals(HealthState.FAILING, r.state(), "the dead letter of 4 min 2 s ago is within the 5 minutes");
    assertEquals("1 errors, 1 dead letters in the last 5 min", r.reason());

    HealthBoard ninetySeconds = new HealthBoard(clock, 3, Duration.ofSeconds(90));
    ninetySeconds.accept(beat("image-indexer", "w", 11, 1, 1, true));
    clock.advance(Duration.ofSeconds(5));
    ninetySeconds.accept(beat("image-indexer", "w", 11, 2, 1, true));
    assertEquals("1 errors, 0 dead letters in the last 90 s", ninetySeconds.rows().get(0).reason(),
        "the window as configured, not rounded to minutes");
  }

  @Test
  void anInstanceStoppedOnRequestIsShownStoppedNotFailingNorStaleUntilARestartBeatsAgain() {
    board.accept(beat("image-indexer", "s", 10, 0, 0, true));
    clock.advance(Duration.ofSeconds(2));
    board.accept(beat("image-indexer", "s", 12, 0, 0, false).toBuilder().setDetail("stopping").setStopping(true).build());
    HealthRow r = only();
    assertEquals(HealthState.STOPPED, r.state(), "a rollout's clean stop is no alert");
    assertTrue(r.reason().startsWith("stopped on request at "), r.reason());
    clock.advance(Duration.ofSeconds(16));
    assertEquals(HealthState.STOPPED, only().state(), "still stopped, not stale, once three intervals passed");
    clock.advance(Duration.ofSeconds(4));
    board.accept(beat("image-indexer", "s", 0, 0, 0, true).toBuilder()
        .setStartedAtMs(clock.millis()).build());
    assertEquals(HealthState.HEALTHY, only().state(), "restarted under the same name: the new process's row");
  }

  @Test
  void aNotReadyBeatSaysItsDetail() {
    board.accept(beat("image-indexer", "s", 12, 0, 0, false).toBuilder().setDetail("catching up").build());
    assertEquals(HealthState.FAILING, only().state());
    assertEquals("not ready: catching up", only().reason());
  }

  @Test
  void growingErrorsAloneMeanFailingAndSilenceOutranksEverything() {
    board.accept(beat("embeddings-generator", "e", 10, 4, 0, true));
    clock.advance(Duration.ofSeconds(5));
    board.accept(beat("embeddings-generator", "e", 10, 4, 0, true));
    assertEquals(HealthState.HEALTHY, only().state(), "errors from before the board heard of it are old news");
    clock.advance(Duration.ofSeconds(5));
    board.accept(beat("embeddings-generator", "e", 10, 5, 0, false));
    assertEquals(HealthState.FAILING, only().state());
    clock.advance(Duration.ofSeconds(16));
    assertEquals(HealthState.STALE, only().state(), "a failing instance that went silent is stale");
  }

  @Test
  void anInstanceWithoutAConsumerLoopShowsNoLag() {
    board.accept(beat("search-api", "s", 0, 0, 0, true).toBuilder().setConsumerLag(-1).setLastActivityMs(0).build());
    String html = new HealthPage(new ZipkinLinks("http://z")).render(board.rows(), READING, clock.millis());
    assertTrue(html.contains("<td class=\"n\">n/a</td>"), html);
    assertTrue(html.contains("<td>never</td>"), "no activity yet");
    assertFalse(html.contains("<rect"), "an empty hour draws no bars");
  }

  @Test
  void aRestartedInstanceCountingFromZeroIsNotNegativeActivity() {
    board.accept(beat("index-builder", "d", 500, 0, 0, true));
    clock.advance(Duration.ofSeconds(5));
    board.accept(beat("index-builder", "d", 3, 0, 0, true));
    assertEquals(3, Arrays.stream(only().sparkline()).sum());
  }

  Heartbeat beatOf(long startedAtMs, long activity) {
    return beat("index-builder", "builder-0", activity, 0, 0, true).toBuilder().setStartedAtMs(startedAtMs).build();
  }

  @Test
  void twoProcessesBeatingUnderOneNameAreCalledOutAndTheRowKeepsTheLaterOnesCounts() {
    long first = clock.millis();
    board.accept(beatOf(first, 500));
    clock.advance(Duration.ofSeconds(2));
    long second = clock.millis();
    board.accept(beatOf(second, 3)); // a second process given the same SERVICE_INSTANCE_ID
    for (int i = 0; i < 6; i++) {
      clock.advance(Duration.ofSeconds(2));
      board.accept(beatOf(first, 510 + i));
      board.accept(beatOf(second, 4 + i));
    }
    HealthRow r = only();
    assertEquals(HealthState.FAILING, r.state());
    assertTrue(r.reason().contains("two processes") && r.reason().contains("SERVICE_INSTANCE_ID"), r.reason());
    assertEquals(9, r.activityTotal(), "the later process's own total, not the two interleaved");
    assertEquals(9, Arrays.stream(r.sparkline()).sum(), "no bogus restarts booked");
    assertEquals(0, r.restarts(), "another process is not a restart");
    // The first one stops: once its beats are older than the stale limit, the row is healthy again.
    clock.advance(Duration.ofSeconds(10));
    board.accept(beatOf(second, 20));
    assertEquals(HealthState.FAILING, only().state(), "its last beat is 10 s old, within three intervals");
    clock.advance(Duration.ofSeconds(6));
    board.accept(beatOf(second, 21));
    assertEquals(HealthState.HEALTHY, only().state(), only().reason());
  }

  @Test
  void theStateTooltipEscapesTheInstanceNameInItsReason() {
    long first = clock.millis();
    Heartbeat one = beat("index-builder", "<b>\"x", 500, 0, 0, true).toBuilder().setStartedAtMs(first).build();
    board.accept(one);
    clock.advance(Duration.ofSeconds(2));
    long second = clock.millis();
    board.accept(beat("index-builder", "<b>\"x", 3, 0, 0, true).toBuilder().setStartedAtMs(second).build());
    clock.advance(Duration.ofSeconds(2));
    board.accept(one.toBuilder().setTimestampMs(clock.millis()).build());
    HealthRow r = only();
    assertTrue(r.reason().contains("two processes send heartbeats as <b>\"x"), r.reason());
    String html = new HealthPage(new ZipkinLinks("http://z")).render(board.rows(), READING, clock.millis());
    assertTrue(html.contains("title=\"two processes send heartbeats as &lt;b&gt;&quot;x"), html);
    assertFalse(html.contains("<b>"), "no markup from an instance name: " + html);
    assertFalse(html.contains("\"x"), "no attribute ended by an instance name: " + html);
  }

  @Test
  void aRestartUnderTheSameNameIsNotTakenForTwoProcesses() {
    long first = clock.millis();
    board.accept(beatOf(first, 500));
    clock.advance(Duration.ofSeconds(5));
    board.accept(beatOf(first, 505)); // its last beat, as it stops
    clock.advance(Duration.ofSeconds(1));
    long second = clock.millis();
    board.accept(beatOf(second, 0));
    clock.advance(Duration.ofSeconds(5));
    board.accept(beatOf(second, 7));
    HealthRow r = only();
    assertEquals(HealthState.HEALTHY, r.state(), r.reason());
    assertEquals(7, r.activityTotal());
    assertEquals(1, r.restarts());
  }

  /** One process of index-builder/builder-0 starting now and beating every 5 s for {@code beats} beats. */
  long runProcess(HealthBoard to, int beats) {
    long started = clock.millis();
    for (int i = 0; i < beats; i++) {
      to.accept(beatOf(started, i));
      clock.advance(Duration.ofSeconds(5));
    }
    return started;
  }

  @Test
  void aCrashLoopingInstanceIsFailingWithItsRestartsNotHealthyBetweenCrashes() {
    runProcess(board, 4); // the first process heard of: not a restart
    assertEquals(0, only().restarts());
    clock.advance(Duration.ofSeconds(20)); // killed (OOM): silent, then back under the same name
    assertEquals(HealthState.STALE, only().state());
    runProcess(board, 4);
    HealthRow once = only();
    assertEquals(HealthState.HEALTHY, once.state(), "one restart is worth showing, not an alert");
    assertEquals(1, once.restarts());
    assertEquals("restarted 1 time in the last 5 min", once.reason());
    clock.advance(Duration.ofSeconds(20));
    runProcess(board, 4);
    assertEquals(2, only().restarts());
    assertEquals(HealthState.HEALTHY, only().state());
    clock.advance(Duration.ofSeconds(20));
    HealthRow down = only();
    assertEquals(HealthState.STALE, down.state());
    assertTrue(down.reason().startsWith("no heartbeat for ") && down.reason().endsWith("; restarted 2 times in the last 5 min"),
        down.reason());
    runProcess(board, 2); // the third restart (10:02:00), 1 min 20 s after the first (10:00:40)
    HealthRow looping = only();
    assertEquals(HealthState.FAILING, looping.state(), "ready and error-free between crashes, yet crash-looping");
    assertEquals("restarted 3 times in the last 5 min", looping.reason());
    assertEquals(3, looping.restarts());
    // It stays up: once a restart is older than the window (counted by whole minutes, as errors are), healthy.
    for (int i = 0; i < 45; i++) {
      clock.advance(Duration.ofSeconds(5));
      board.accept(beatOf(only().startedAtMs(), 100 + i));
    }
    assertEquals(Instant.parse("2026-11-22T10:05:55Z"), clock.instant());
    assertEquals(HealthState.FAILING, only().state(), "the window still reaches into 10:00, the first restart's minute");
    clock.advance(Duration.ofSeconds(5));
    board.accept(beatOf(only().startedAtMs(), 200));
    assertEquals(2, only().restarts(), "10:06:00: the first restart left the window");
    assertEquals(HealthState.HEALTHY, only().state(), only().reason());
    assertEquals("restarted 2 times in the last 5 min", only().reason());
  }

  @Test
  void aBeatOfTheSameProcessAgainOrOfAnOlderOneIsNoRestart() {
    long started = clock.millis() - Duration.ofMinutes(1).toMillis(); // up before the board heard of it
    board.accept(beatOf(started, 1));
    clock.advance(Duration.ofSeconds(5));
    board.accept(beatOf(started, 2));
    board.accept(beatOf(started, 2)); // a duplicate
    assertEquals(0, only().restarts());
    assertEquals(HealthState.HEALTHY, only().state());
    assertEquals("", only().reason());
  }

  @Test
  void aReplayedHourCountsTheRestartsWithinTheWindowOnly() {
    // The board starts at 11:00 and reads the last hour at once: a process up since before the
    // hour, restarted at 10:10, then crash-looping from 10:56.
    clock.advance(Duration.ofHours(1));
    long now = clock.millis();
    List<Heartbeat> hour = new java.util.ArrayList<>();
    long[] starts = {now - 70 * 60_000L, now - 50 * 60_000L, now - 4 * 60_000L, now - 3 * 60_000L, now - 2 * 60_000L};
    long[] ends = {now - 51 * 60_000L, now - 4 * 60_000L - 30_000, now - 3 * 60_000L - 30_000, now - 2 * 60_000L - 30_000, now};
    for (int p = 0; p < starts.length; p++) {
      for (long t = Math.max(starts[p], now - 3_600_000L); t <= ends[p]; t += 5_000) {
        hour.add(beatOf(starts[p], 1).toBuilder().setTimestampMs(t).build());
      }
    }
    for (Heartbeat hb : hour) {
      board.accept(hb);
    }
    HealthRow r = only();
    assertEquals(3, r.restarts(), "the restart of 50 min ago is outside the window; the first beat read is none");
    assertEquals(HealthState.FAILING, r.state());
    assertEquals("restarted 3 times in the last 5 min", r.reason());
    assertEquals(starts[4], r.startedAtMs());
    assertEquals(120_000, r.uptimeMs());
  }

  @Test
  void theUptimeAndRestartsAreOnThePageAndInTheJson() throws Exception {
    runProcess(board, 2);
    clock.advance(Duration.ofSeconds(30));
    long started = runProcess(board, 25); // up since 10:00:40, two minutes
    clock.advance(Duration.ofSeconds(-5)); // as of its last beat
    ZipkinLinks links = new ZipkinLinks("http://z");
    String html = new HealthPage(links).render(board.rows(), READING, clock.millis());
    assertTrue(html.contains("<th>up</th><th>restarts</th>"), html);
    assertTrue(html.contains("<td class=\"up\" title=\"up since 2026-11-22T10:00:40Z\">2 min (since 10:00:40 UTC)</td>"
        + "<td class=\"n restarts restarted\" title=\"restarts in the last 5 min\">1</td></tr>"), html);
    var row = new com.fasterxml.jackson.databind.ObjectMapper()
        .readTree(new HealthJson(links).render(board.rows(), READING, clock.millis())).get("instances").get(0);
    assertEquals(started, row.get("started_at_ms").asLong());
    assertEquals(120_000, row.get("uptime_ms").asLong());
    assertEquals(1, row.get("restarts").asInt());
    assertEquals(300_000, row.get("restarts_window_ms").asLong());
    assertEquals("healthy", row.get("state").asText());
    // Killed: the uptime stops at its last beat instead of growing on a dead process.
    clock.advance(Duration.ofMinutes(2));
    HealthRow stale = only();
    assertEquals(HealthState.STALE, stale.state());
    assertEquals(120_000, stale.uptimeMs());
    // A sender that does not say when it started: no uptime.
    board.accept(beat("search-api", "old", 0, 0, 0, true));
    HealthRow old = board.rows().stream().filter(x -> x.instance().equals("old")).findFirst().orElseThrow();
    assertEquals(-1, old.uptimeMs());
    assertTrue(new HealthPage(links).render(board.rows(), READING, clock.millis()).contains("<td class=\"up\">n/a</td>"));
  }

  @Test
  void instancesAreListedByServiceAndForgottenAfterAnHourOfSilence() {
    board.accept(beat("search-api", "z", 1, 0, 0, true));
    board.accept(beat("catalog-downloader", "y", 1, 0, 0, true));
    board.accept(beat("catalog-downloader", "x", 1, 0, 0, true));
    List<HealthRow> rows = board.rows();
    assertEquals(List.of("catalog-downloader/x", "catalog-downloader/y", "search-api/z"),
        rows.stream().map(r -> r.service() + "/" + r.instance()).toList());
    clock.advance(Duration.ofMinutes(61));
    assertTrue(board.rows().isEmpty());
  }

  @Test
  void replayingAnHourOfManyShortLivedInstancesLooksAtEachOnlyAFewTimesAndTheSilentAreStillForgotten() {
    // After a restart the reader replays the last hour at once: 300 crash-looped instance ids,
    // twelve beats each, read while the board's clock hardly moves.
    long hourAgo = clock.millis() - Duration.ofHours(1).toMillis();
    for (int id = 0; id < 300; id++) {
      for (int b = 0; b < 12; b++) {
        board.accept(beat("image-indexer", "crash-" + id, b, 0, 0, true).toBuilder()
            .setTimestampMs(hourAgo + id * 12_000L + b * 1_000L).build());
      }
      clock.advance(Duration.ofMillis(10));
    }
    assertEquals(300, board.rows().size(), "every instance of the hour is listed");
    long replayed = board.instancesExamined();
    assertTrue(replayed < 10 * 300, "a few sweeps, not one per beat read: " + replayed);
    // Silent ever since: forgotten by the sweep the next heartbeat brings, once the hour is over.
    clock.advance(Duration.ofMinutes(62));
    board.accept(beat("search-api", "s", 1, 0, 0, true));
    assertTrue(board.instancesExamined() > replayed, "a heartbeat a second later sweeps again");
    assertEquals(List.of("search-api/s"), board.rows().stream().map(r -> r.service() + "/" + r.instance()).toList());
  }

  @Test
  void anInstanceSlowToTurnStaleShowsStaleForAnHourBeforeItIsForgotten() {
    // 1,000 intervals of 5 s: stale after 83 minutes of silence, later than the hour rows are kept.
    HealthBoard patient = new HealthBoard(clock, 1_000, Duration.ofMinutes(5));
    patient.accept(beat("index-builder", "a", 1, 0, 0, true));
    clock.advance(Duration.ofMinutes(84));
    assertEquals(HealthState.STALE, patient.rows().get(0).state(), "dead, and shown so");
    clock.advance(Duration.ofMinutes(59));
    assertEquals(1, patient.rows().size(), "stale for less than an hour: still listed");
    clock.advance(Duration.ofMinutes(2));
    assertTrue(patient.rows().isEmpty());
  }

  @Test
  void theJsonAndThePageSayTheSameAndEscapeWhatTheyShow() throws Exception {
    board.accept(beat("image-indexer", "<host>&1", 0, 0, 0, true));
    clock.advance(Duration.ofSeconds(5));
    board.accept(beat("image-indexer", "<host>&1", 12, 1, 0, true));
    ZipkinLinks links = new ZipkinLinks("http://zipkin.example:9411/");
    List<HealthRow> rows = board.rows();
    String html = new HealthPage(links).render(rows, READING, clock.millis());
    assertTrue(html.contains("data-instance=\"&lt;host&gt;&amp;1\""), html);
    assertFalse(html.contains("<host>"), "instance names are escaped");
    assertTrue(html.contains("data-state=\"failing\""), "an error in the window shows as failing");
    assertTrue(html.contains("http://zipkin.example:9411/zipkin/?serviceName=image-indexer&amp;lookback=3600000"));
    assertTrue(html.contains("<rect"), "twelve records of activity draw a bar");
    var json = new com.fasterxml.jackson.databind.ObjectMapper()
        .readTree(new HealthJson(links).render(rows, READING, clock.millis()));
    var row = json.get("instances").get(0);
    assertEquals("<host>&1", row.get("instance").asText());
    assertEquals("failing", row.get("state").asText());
    assertEquals(12, row.get("activity_total").asLong());
    assertEquals(12, row.get("activity_per_minute").get(59).asLong());
  }
}
