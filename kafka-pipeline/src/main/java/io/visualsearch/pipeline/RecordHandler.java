package io.visualsearch.pipeline;

import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * A service's work for one consumed record. Runs inside the record's span. Anything it produces
 * goes through {@code out}, so the loop commits the record only after those sends are
 * acknowledged. Handlers must be idempotent: after a crash a record may be handled again.
 */
@FunctionalInterface
public interface RecordHandler {

  /**
   * @throws RetriableProcessingException to pause and retry this same record
   * @throws Exception anything else sends the record to the dead-letter topic
   */
  void handle(ConsumerRecord<byte[], byte[]> record, Outbox out) throws Exception;
}
