package io.visualsearch.pipeline;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/** Where an input record sits: its partition and offset. */
record RecordPosition(TopicPartition partition, long offset) {

  static RecordPosition of(ConsumerRecord<?, ?> rec) {
    return new RecordPosition(new TopicPartition(rec.topic(), rec.partition()), rec.offset());
  }
}
