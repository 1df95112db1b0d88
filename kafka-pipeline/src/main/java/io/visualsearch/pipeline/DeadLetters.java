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

  /** The two headers together stay within 8 KiB, half of the room producers keep for headers. */
  private static final int MAX_MESSAGE_BYTES = 2048;
  private static final int MAX_STACK_TRACE_BYTES = 6144;
  private static final int MAX_CAUSE_DEPTH = 32;

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
    // Bounded: a cause chain may loop (a.initCause(b), b.initCause(a) is legal).
    for (int depth = 0; depth < MAX_CAUSE_DEPTH && root.getCause() != null && root.getCause() != root; depth++) {
      root = root.getCause();
    }
    if (root != error && root.getMessage() != null && !text.contains(root.getMessage())) {
      text += " (caused by " + root + ")";
    }
    return capUtf8(text, MAX_MESSAGE_BYTES);
  }

  private static String stackTraceOf(Throwable error) {
    StringWriter sw = new StringWriter();
    error.printStackTrace(new PrintWriter(sw));
    return capUtf8(sw.toString(), MAX_STACK_TRACE_BYTES);
  }

  /**
   * At most {@code bytes} of UTF-8, cut at a character: the copy must fit the producer's request
   * size beside a record near its limit, and multi-byte text (a title, an IRI) counted in chars
   * could take three times the room.
   */
  static String capUtf8(String text, int bytes) {
    byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
    if (utf8.length <= bytes) {
      return text;
    }
    int end = bytes;
    while (end > 0 && (utf8[end] & 0xC0) == 0x80) {
      end--; // back to the first byte of the character that does not fit
    }
    return new String(utf8, 0, end, StandardCharsets.UTF_8);
  }

  private static void put(Headers h, String key, String value) {
    h.remove(key);
    h.add(key, value.getBytes(StandardCharsets.UTF_8));
  }
}
