package io.visualsearch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.Test;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

class DeliveryStateTest {

  /** What was logged, as "LEVEL message". */
  final List<String> logged = new ArrayList<>();
  final DeliveryState state = new DeliveryState(new RecordingLogger(), "answers are not archived", "archived again");

  @Test
  void aStreakOfFailuresIsLoggedOnceAndItsEndOnce() {
    state.delivered();
    for (int i = 0; i < 100; i++) {
      state.failed(new TopicAuthorizationException("no WRITE on search.responses " + i));
    }
    assertEquals("TopicAuthorizationException: no WRITE on search.responses 99", state.lastFailure(),
        "the check shows the latest reason");
    for (int i = 0; i < 100; i++) {
      state.delivered();
    }
    assertNull(state.lastFailure());
    state.failed(new IllegalStateException("producer closed"));
    assertEquals(List.of(
        "WARN answers are not archived: TopicAuthorizationException: no WRITE on search.responses 0",
        "INFO archived again",
        "WARN answers are not archived: IllegalStateException: producer closed"), logged);
  }

  final class RecordingLogger extends LegacyAbstractLogger {

    @Override
    protected String getFullyQualifiedCallerName() {
      return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] arguments,
        Throwable throwable) {
      logged.add(level + " " + MessageFormatter.basicArrayFormat(pattern, arguments));
    }

    @Override
    public boolean isTraceEnabled() {
      return true;
    }

    @Override
    public boolean isDebugEnabled() {
      return true;
    }

    @Override
    public boolean isInfoEnabled() {
      return true;
    }

    @Override
    public boolean isWarnEnabled() {
      return true;
    }

    @Override
    public boolean isErrorEnabled() {
      return true;
    }
  }
}
