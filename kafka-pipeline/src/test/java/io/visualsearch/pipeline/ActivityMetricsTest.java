package io.visualsearch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * What Prometheus scrapes from the shared loop's {@link Activity}: conventional names and types,
 * and the same numbers the heartbeat carries to the health page.
 */
class ActivityMetricsTest {

  final PrometheusRegistry registry = new PrometheusRegistry();
  final Activity activity = new Activity(registry);

  String scrape() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ExpositionFormats.init().getPrometheusTextFormatWriter().write(out, registry.scrape());
    return out.toString(StandardCharsets.UTF_8);
  }

  static double value(String text, String series) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(text);
    assertTrue(m.find(), "no sample " + series + " in\n" + text);
    return Double.parseDouble(m.group(1));
  }

  static void assertType(String text, String family, String type) {
    assertTrue(text.contains("# TYPE " + family + " " + type + "\n"), family + " is not a " + type + " in\n" + text);
  }

  /**
   * response-consumer runs two loops on one Activity: its lag is theirs together, not whichever
   * reported last (the answers' loop at 0 hid publications piling up behind a similar-items job).
   */
  @Test
  void theLagOfTwoLoopsIsTheirSumAndEachLoopReplacesOnlyItsOwn() throws IOException {
    assertEquals(-1, activity.lag(), "no loop reported yet");
    Object answers = new Object();
    Object publications = new Object();
    activity.lag(publications, 5);
    activity.lag(answers, 0);
    assertEquals(5, activity.lag());
    activity.lag(answers, 2);
    activity.lag(answers, 0);
    assertEquals(5, activity.lag());
    assertEquals(5, value(scrape(), "pipeline_consumer_lag_records"));
    activity.lag(publications, 1);
    assertEquals(1, activity.lag());
    activity.forgetLag(publications);
    assertEquals(0, activity.lag(), "a closed loop's last lag no longer counts");
  }

  @Test
  void theLoopsWorkIsScrapedUnderConventionalNamesAndTypes() throws IOException {
    activity.polled(3);
    activity.handled("images.ready", 0.002);
    activity.handled("images.ready", 0.300);
    activity.deadLettered("images.ready", "invalid_image", "acme");
    activity.deadLettered("images.ready", "invalid_image", "acme/../../x");
    activity.polled(0); // an empty poll is not a batch
    activity.polled(40);
    activity.retried("images.ready");
    activity.lag("loop", 17);

    String text = scrape();
    assertType(text, "pipeline_records_handled_total", "counter");
    assertEquals(2, value(text, "pipeline_records_handled_total{topic=\"images.ready\"}"));
    assertType(text, "pipeline_errors_total", "counter");
    assertEquals(2, value(text, "pipeline_errors_total{kind=\"poison\"}"));
    assertEquals(1, value(text, "pipeline_errors_total{kind=\"retriable\"}"));
    assertEquals(0, value(text, "pipeline_errors_total{kind=\"other\"}"));
    assertType(text, "pipeline_dlq_records_total", "counter");
    // Per tenant: which retailer's records fail; a key that names none is counted as unknown.
    assertEquals(1, value(text,
        "pipeline_dlq_records_total{reason=\"invalid_image\",tenant=\"acme\",topic=\"images.ready\"}"));
    assertEquals(1, value(text,
        "pipeline_dlq_records_total{reason=\"invalid_image\",tenant=\"\",topic=\"images.ready\"}"));
    assertType(text, "pipeline_consumer_lag_records", "gauge");
    assertEquals(17, value(text, "pipeline_consumer_lag_records"));

    assertType(text, "pipeline_record_duration_seconds", "histogram");
    assertEquals(2, value(text, "pipeline_record_duration_seconds_count{topic=\"images.ready\"}"));
    assertEquals(0.302, value(text, "pipeline_record_duration_seconds_sum{topic=\"images.ready\"}"), 1e-9);
    assertEquals(1, value(text, "pipeline_record_duration_seconds_bucket{topic=\"images.ready\",le=\"0.005\"}"));
    assertEquals(2, value(text, "pipeline_record_duration_seconds_bucket{topic=\"images.ready\",le=\"+Inf\"}"));

    assertType(text, "pipeline_poll_batch_records", "histogram");
    assertEquals(2, value(text, "pipeline_poll_batch_records_count"));
    assertEquals(1, value(text, "pipeline_poll_batch_records_bucket{le=\"5.0\"}"));
    assertEquals(2, value(text, "pipeline_poll_batch_records_bucket{le=\"50.0\"}"));
  }

  /**
   * A similar-items job is one record of minutes: with the default buckets (to 10 s) every one
   * fell in +Inf. And a pause for a retry was counted once per failed record of its batch.
   */
  @Test
  void aRecordOfMinutesFallsInABucketAndAPauseCountsOnce() throws IOException {
    activity.handled("index.published", 240);
    for (int i = 0; i < 48; i++) {
      activity.retried("images.ready");
    }
    activity.pausedForRetry("images.ready");
    String text = scrape();
    assertEquals(0, value(text, "pipeline_record_duration_seconds_bucket{topic=\"index.published\",le=\"60.0\"}"));
    assertEquals(1, value(text, "pipeline_record_duration_seconds_bucket{topic=\"index.published\",le=\"300.0\"}"));
    assertEquals(48, value(text, "pipeline_records_failed_total{kind=\"retriable\",topic=\"images.ready\"}"));
    assertEquals(1, value(text, "pipeline_retries_total{topic=\"images.ready\"}"));
  }

  @Test
  void scrapedTotalsAreTheHeartbeatsTotalsIncludingWorkOutsideTheLoop() throws IOException {
    assertEquals(0, value(scrape(), "pipeline_last_activity_timestamp_seconds"), "nothing done yet");
    activity.handled("catalog.products", 0.01);
    activity.recordActivity(); // a query answered, a feed downloaded
    activity.recordActivity();
    activity.recordError();
    activity.deadLettered("catalog.products", "malformed", "acme");

    String text = scrape();
    assertType(text, "pipeline_activity_total", "counter");
    assertEquals(activity.handled(), (long) value(text, "pipeline_activity_total"));
    assertEquals(3, activity.handled());
    double errors = Arrays.stream(new String[] {"retriable", "poison", "other"})
        .mapToDouble(kind -> value(text, "pipeline_errors_total{kind=\"" + kind + "\"}")).sum();
    assertEquals(activity.errors(), (long) errors);
    assertEquals(2, activity.errors());
    assertType(text, "pipeline_last_activity_timestamp_seconds", "gauge");
    assertEquals(activity.lastActivityMs() / 1000.0, value(text, "pipeline_last_activity_timestamp_seconds"), 0.001);
  }
}
