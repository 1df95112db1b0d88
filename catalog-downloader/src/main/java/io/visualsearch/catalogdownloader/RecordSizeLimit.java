package io.visualsearch.catalogdownloader;

import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigException;
import io.visualsearch.pipeline.KafkaSettings;
import java.util.List;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * How large a catalog record may be, read from the producer's own {@code max.request.size} (Kafka's
 * default unless {@code KAFKA_CLIENT_PROPERTIES} sets it), so this check and the producer cannot
 * disagree. A record the producer refuses fails its send, and with it the whole sync, every interval.
 */
record RecordSizeLimit(int maxRequestBytes) {

  static final int KAFKA_DEFAULT_MAX_REQUEST_BYTES =
      (Integer) ProducerConfig.configDef().defaultValues().get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);

  /**
   * Left for what the producer counts besides key and value: headers (tenant, trace context) and
   * record and batch framing, well under 1 KiB today; the rest is slack for headers added later.
   */
  static final int HEADROOM_BYTES = 16 << 10;

  RecordSizeLimit {
    if (maxRequestBytes <= HEADROOM_BYTES) {
      throw new IllegalArgumentException("max.request.size " + maxRequestBytes + " leaves no room for a product");
    }
  }

  /** The producer's limit as configured; a config error when it is not a number or too small. */
  static RecordSizeLimit of(Config config) {
    Object configured = KafkaSettings.common(config).get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
    try {
      return new RecordSizeLimit(configured == null ? KAFKA_DEFAULT_MAX_REQUEST_BYTES
          : Integer.parseInt(configured.toString().trim()));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(List.of(KafkaSettings.EXTRA.env() + ": max.request.size=" + configured
          + " is unusable: " + e.getMessage()));
    }
  }

  /** The most key + value bytes one record may carry. */
  int maxRecordBytes() {
    return maxRequestBytes - HEADROOM_BYTES;
  }

  boolean fits(long keyAndValueBytes) {
    return keyAndValueBytes <= maxRecordBytes();
  }

  /**
   * A row limit above what one record may carry lets rows through that could never be sent; refused
   * at start rather than clamped, so the operator sees which of the two settings to change.
   */
  void requireRowLimitFits(int maxRowBytes) {
    if (maxRowBytes > maxRecordBytes()) {
      throw new ConfigException(List.of(CatalogDownloaderSettings.MAX_ROW_BYTES.env() + "=" + maxRowBytes
          + " is more than one Kafka record may carry: " + maxRecordBytes() + " bytes (the producer's max.request.size "
          + maxRequestBytes + " less " + HEADROOM_BYTES + " for headers). Lower it, or raise max.request.size in "
          + KafkaSettings.EXTRA.env() + " together with the broker's message.max.bytes."));
    }
  }
}
