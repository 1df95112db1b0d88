package io.visualsearch.catalogdownloader;

import io.visualsearch.pipeline.TopicReplay;
import io.visualsearch.topics.Topics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;

/**
 * The ids a tenant has products for in {@code catalog.products}, read from the compacted topic
 * itself (every partition to the end offsets seen at the start, no group, nothing committed): what
 * the pipeline's consumers hold, whatever the downloader's own state says. A full read of every
 * tenant's records, so only for a tenant whose snapshot is lost ({@link CatalogSync}).
 */
final class CatalogTopicIds implements CatalogSync.LiveIds {

  private final Supplier<Consumer<byte[], byte[]>> consumers;
  private final Duration timeout;

  CatalogTopicIds(Supplier<Consumer<byte[], byte[]>> consumers, Duration timeout) {
    this.consumers = consumers;
    this.timeout = timeout;
  }

  @Override
  public Set<String> of(String tenant) throws IOException {
    byte[] prefix = Topics.key(tenant, "").getBytes(StandardCharsets.UTF_8);
    Set<String> ids = new HashSet<>();
    try (Consumer<byte[], byte[]> consumer = consumers.get()) {
      TopicReplay.toEnd(consumer, Topics.CATALOG_PRODUCTS.name(), timeout, rec -> {
        byte[] key = rec.key();
        if (key == null || key.length <= prefix.length
            || !Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length)) {
          return;
        }
        String id = new String(key, prefix.length, key.length - prefix.length, StandardCharsets.UTF_8);
        if (rec.value() == null) {
          ids.remove(id);
        } else {
          ids.add(id);
        }
      });
    } catch (TimeoutException e) {
      throw new IOException(e.getMessage() + "; raise " + CatalogDownloaderSettings.RECOVERY_TIMEOUT.env(), e);
    }
    return ids;
  }
}
