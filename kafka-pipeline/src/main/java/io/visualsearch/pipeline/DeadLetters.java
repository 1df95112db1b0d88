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
    put(h, PipelineHeaders.DLQ_EXCEPTION_MESSAGE, describe(error));
    put(h, PipelineHeaders.DLQ_SERVICE, service);
    put(h, PipelineHeaders.DLQ_TIMESTAMP, Long.toString(System.currentTimeMillis()));
    return h;
  }

  private static String describe(Throwable error) {
    StringWriter sw = new StringWriter();
    error.printStackTrace(new PrintWriter(sw));
    String text = sw.toString();
    return text.length() <= MAX_MESSAGE_CHARS ? text : text.substring(0, MAX_MESSAGE_CHARS);
  }

  private static void put(Headers h, String key, String value) {
    h.remove(key);
    h.add(key, value.getBytes(StandardCharsets.UTF_8));
  }
}
