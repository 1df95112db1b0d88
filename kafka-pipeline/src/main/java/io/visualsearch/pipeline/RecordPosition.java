package io.visualsearch.pipeline;

import org.apache.kafka.common.TopicPartition;

/** Where an input record sits: its partition and offset. */
record RecordPosition(TopicPartition partition, long offset) {}
