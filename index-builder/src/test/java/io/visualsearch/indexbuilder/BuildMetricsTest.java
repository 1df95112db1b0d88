package io.visualsearch.indexbuilder;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.pipeline.Activity;
import org.junit.jupiter.api.Test;

/** Builds on the health page: a failed build is an error, a published one activity, the rest neither. */
class BuildMetricsTest {

  @Test
  void failedBuildsAreErrorsAndPublishedOnesActivity() {
    Activity activity = new Activity(new PrometheusRegistry());
    BuildMetrics metrics = new BuildMetrics(new PrometheusRegistry(), activity);
    metrics.attempt(BuildMetrics.Outcome.FAILED);
    metrics.attempt(BuildMetrics.Outcome.FAILED);
    metrics.attempt(BuildMetrics.Outcome.PUBLISHED);
    metrics.attempt(BuildMetrics.Outcome.HELD);
    metrics.attempt(BuildMetrics.Outcome.UP_TO_DATE);
    metrics.attempt(BuildMetrics.Outcome.LOST_RACE);
    assertEquals(2, activity.errors());
    assertEquals(1, activity.handled());
  }
}
