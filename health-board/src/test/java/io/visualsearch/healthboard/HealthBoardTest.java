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
