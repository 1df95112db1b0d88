package io.visualsearch.pipeline;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/** Record header names the services share, and the dead-letter provenance headers. */
public final class PipelineHeaders {

  public static final String TENANT = "tenant";
  public static final String MODEL_VERSION = "model-version";

  public static final String DLQ_ORIGIN_TOPIC = "dlq.origin.topic";
  public static final String DLQ_ORIGIN_PARTITION = "dlq.origin.partition";
  public static final String DLQ_ORIGIN_OFFSET = "dlq.origin.offset";
  public static final String DLQ_REASON = "dlq.reason";
  public static final String DLQ_EXCEPTION_CLASS = "dlq.exception.class";
  /** The exception's message alone (a poison record's reason in words), readable by the retailer. */
  public static final String DLQ_EXCEPTION_MESSAGE = "dlq.exception.message";
  /** The exception's stack trace, for the engineer; capped. */
  public static final String DLQ_EXCEPTION_STACK_TRACE = "dlq.exception.stacktrace";
  public static final String DLQ_SERVICE = "dlq.service";
  public static final String DLQ_TIMESTAMP = "dlq.timestamp";

  private PipelineHeaders() {}

  public static String get(Headers headers, String key) {
    Header h = headers.lastHeader(key);
    return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }
}
