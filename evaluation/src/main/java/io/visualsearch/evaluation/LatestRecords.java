package io.visualsearch.evaluation;

import io.visualsearch.pipeline.TopicReplay;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.Consumer;

/**
 * The latest value of every key of a compacted topic whose key starts with a prefix, as of the end
 * offsets seen at the start ({@link TopicReplay}: a consistent snapshot; later writes are not
 * waited for). A null value (tombstone) removes the key.
 */
final class LatestRecords {

  private LatestRecords() {}

  static Map<String, byte[]> read(Consumer<byte[], byte[]> consumer, String topic, String keyPrefix, Duration timeout)
      throws IOException {
    Map<String, byte[]> latest = new HashMap<>();
    try {
      TopicReplay.toEnd(consumer, topic, timeout, record -> {
        if (record.key() == null) {
          return;
        }
        String key = new String(record.key(), StandardCharsets.UTF_8);
        if (!key.startsWith(keyPrefix)) {
          return;
        }
        if (record.value() == null) {
          latest.remove(key);
        } else {
          latest.put(key, record.value());
        }
      });
    } catch (TimeoutException | IllegalStateException e) {
      throw new IOException(e.getMessage(), e);
    }
    return latest;
  }
}
