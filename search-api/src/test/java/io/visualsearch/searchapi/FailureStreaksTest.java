package io.visualsearch.searchapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

class FailureStreaksTest {

  /** One call to the logger: its level and the throwable it was given, if any. */
  record Line(String level, String text, Throwable thrown) { }

  private final List<Line> lines = new ArrayList<>();
  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final FailureStreaks streaks = new FailureStreaks(recording(), now::get,
      Duration.ofMinutes(1), Duration.ofSeconds(10));

  private Logger recording() {
    return (Logger) Proxy.newProxyInstance(Logger.class.getClassLoader(), new Class<?>[] {Logger.class},
        (proxy, method, args) -> {
          String name = method.getName();
          if (name.startsWith("is")) {
            return true;
          }
          if (List.of("warn", "info", "error", "debug", "trace").contains(name)) {
            List<Object> all = new ArrayList<>();
            for (Object a : args) {
              if (a instanceof Object[] varargs) {
                all.addAll(Arrays.asList(varargs));
              } else {
                all.add(a);
              }
            }
            Throwable thrown = all.get(all.size() - 1) instanceof Throwable t ? t : null;
            lines.add(new Line(name, all.toString(), thrown));
          }
          return null;
        });
  }

  private static ApiException modelDown() {
    return ApiException.unavailable("model_unavailable", "the embedding model is unavailable, retry shortly", 2,
        new IllegalStateException("connection refused"));
  }

  private static ApiException storeDown() {
    return ApiException.unavailable("store_unavailable", "the object store is unavailable, retry shortly", 2,
        new IllegalStateException("503 Slow Down"));
  }

  private void advanceSeconds(long s) {
    now.addAndGet(Duration.ofSeconds(s).toNanos());
  }

  @Test
  void anOutageLogsItsFirstFailureWithTheCauseThenNothingPerQuery() {
    ApiException first = modelDown();
    streaks.failed("/api/v1/search", first);
    for (int i = 0; i < 2_999; i++) {
      now.addAndGet(Duration.ofMillis(10).toNanos());
      streaks.failed("/api/v1/search", modelDown());
    }
    assertEquals(1, lines.size(), lines.toString());
    assertEquals("warn", lines.get(0).level());
    assertEquals(first.getCause(), lines.get(0).thrown(), "the first failure is logged with its cause");
    assertTrue(lines.get(0).text().contains("model_unavailable"), lines.get(0).text());
    assertEquals(3_000, streaks.failing("model_unavailable"));
  }

  @Test
  void aLastingStreakIsCountedOnceAMinuteWithoutATrace() {
    streaks.failed("/api/v1/search", modelDown());
    for (int i = 0; i < 120; i++) {
      advanceSeconds(1);
      streaks.failed("gRPC search", modelDown());
    }
    assertEquals(3, lines.size(), lines.toString());
    for (Line periodic : lines.subList(1, 3)) {
      assertEquals("warn", periodic.level());
      assertNull(periodic.thrown(), "no stack trace in the periodic count: " + periodic);
      assertTrue(periodic.text().contains("60"), periodic.text());
    }
  }

  @Test
  void theStreakEndsWithOneLineOnceQueriesAreAnsweredAgain() {
    streaks.failed("/api/v1/search", modelDown());
    streaks.failed("/api/v1/search", modelDown());
    advanceSeconds(11);
    streaks.answered();
    streaks.answered();
    assertEquals(2, lines.size(), lines.toString());
    assertEquals("info", lines.get(1).level());
    assertTrue(lines.get(1).text().contains("model_unavailable") && lines.get(1).text().contains("2"),
        lines.get(1).text());
    assertEquals(0, streaks.failing("model_unavailable"));

    // A later outage is news again, with its cause.
    streaks.failed("/api/v1/search", modelDown());
    assertEquals(3, lines.size());
    assertTrue(lines.get(2).thrown() != null);
  }

  @Test
  void aFailureAfterAQuietSpellWithoutAnswersIsANewOutageWithItsCause() {
    // A replica few queries reach at night: nothing answered between two outages.
    streaks.failed("/api/v1/search", modelDown());
    advanceSeconds(7_200);
    ApiException later = storeDown();
    ApiException modelAgain = modelDown();
    streaks.failed("/api/v1/search", later);
    streaks.failed("/api/v1/search", modelAgain);
    assertEquals(4, lines.size(), lines.toString());
    assertEquals("info", lines.get(2).level(), "the first outage ends: " + lines);
    assertEquals("warn", lines.get(3).level());
    assertEquals(modelAgain.getCause(), lines.get(3).thrown(), "the new outage is logged with its own cause");
    assertEquals(1, streaks.failing("model_unavailable"));
  }

  @Test
  void answersBetweenFailuresDoNotRestartTheStreak() {
    // One of two model servers down: answers and failures alternate.
    streaks.failed("/api/v1/search", modelDown());
    for (int i = 0; i < 1_000; i++) {
      now.addAndGet(Duration.ofMillis(20).toNanos());
      streaks.answered();
      now.addAndGet(Duration.ofMillis(20).toNanos());
      streaks.failed("/api/v1/search", modelDown());
    }
    assertEquals(1, lines.size(), lines.toString());
    assertEquals(1_001, streaks.failing("model_unavailable"));
  }

  @Test
  void eachErrorCodeHasItsOwnStreak() {
    streaks.failed("/api/v1/search", modelDown());
    streaks.failed("/api/v1/products/{sku}/similar", storeDown());
    streaks.failed("/api/v1/search", modelDown());
    streaks.failed("/api/v1/products/{sku}/similar", storeDown());
    assertEquals(2, lines.size(), lines.toString());
    assertTrue(lines.get(0).text().contains("model_unavailable"));
    assertTrue(lines.get(1).text().contains("store_unavailable"));
    assertTrue(lines.get(1).thrown() != null);
  }
}
