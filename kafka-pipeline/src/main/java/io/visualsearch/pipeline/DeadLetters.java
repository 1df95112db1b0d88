package io.visualsearch.pipeline;

import io.visualsearch.topics.Topic;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/** Builds the dead-letter copy of a record: same key, value and headers, plus where and why. */
final class DeadLetters {

  private static final int MAX_MESSAGE_CHARS = 4000;
  private static final int MAX_STACK_TRACE_CHARS = 8000;

  private final String service;

  DeadLetters(String service) {
    this.service = service;
  }

  static String reasonOf(Throwable error) {
    return error instanceof PoisonRecordException p ? p.reason() : "unexpected-error";
  }

  String topicFor(ConsumerRecord<?, ?> record) {
    return record.topic() + Topic.DLQ_SUFFIX;
  }

  Headers headersFor(ConsumerRecord<byte[], byte[]> record, Throwable error) {
    Headers h = new RecordHeaders();
    for (Header original : record.headers()) {
      h.add(original.key(), original.value());
    }
    put(h, PipelineHeaders.DLQ_ORIGIN_TOPIC, record.topic());
    put(h, PipelineHeaders.DLQ_ORIGIN_PARTITION, Integer.toString(record.partition()));
    put(h, PipelineHeaders.DLQ_ORIGIN_OFFSET, Long.toString(record.offset()));
    put(h, PipelineHeaders.DLQ_REASON, reasonOf(error));
    put(h, PipelineHeaders.DLQ_EXCEPTION_CLASS, error.getClass().getName());
    put(h, PipelineHeaders.DLQ_EXCEPTION_MESSAGE, messageOf(error));
    put(h, PipelineHeaders.DLQ_EXCEPTION_STACK_TRACE, stackTraceOf(error));
    put(h, PipelineHeaders.DLQ_SERVICE, service);
    put(h, PipelineHeaders.DLQ_TIMESTAMP, Long.toString(System.currentTimeMillis()));
    return h;
  }

  /**
   * What a retailer or operator reads: the exception's own message (a poison reason says what was
   * wrong with the record), and the root cause's when it differs. The frames go in their own header.
   */
  static String messageOf(Throwable error) {
    String text = error.getMessage() != null ? error.getMessage() : error.getClass().getName();
    Throwable root = error;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    if (root != error && root.getMessage() != null && !text.contains(root.getMessage())) {
      text += " (caused by " + root + ")";
    }
    return cap(text, MAX_MESSAGE_CHARS);
  }

  private static String stackTraceOf(Throwable error) {
    StringWriter sw = new StringWriter();
    error.printStackTrace(new PrintWriter(sw));
    return cap(sw.toString(), MAX_STACK_TRACE_CHARS);
  }

  private static String cap(String text, int chars) {
    return text.length() <= chars ? text : text.substring(0, chars);
  }

  private static void put(Headers h, String key, String value) {
    h.remove(key);
    h.add(key, value.getBytes(StandardCharsets.UTF_8));
  }
}
