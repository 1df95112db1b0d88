package io.visualsearch.catalogdownloader;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * Kafka's answers to one sync's sends, taken as they arrive rather than kept as a future a record: a
 * sync holds every record it sent until its end, and a first load of millions of products, or a feed
 * of millions of rejected rows (each dead-lettered), would hold millions of futures.
 */
final class Acknowledgements implements Callback {

  private final AtomicReference<Exception> firstFailure = new AtomicReference<>();

  @Override
  public void onCompletion(RecordMetadata metadata, Exception exception) {
    if (exception != null) {
      firstFailure.compareAndSet(null, exception);
    }
  }

  /**
   * Returns once every record sent so far was acknowledged. The producer's flush waits until each
   * has completed, its callback run, which its {@code delivery.timeout.ms} bounds.
   *
   * @throws IOException when any was not
   */
  void await(Producer<?, ?> producer) throws IOException {
    producer.flush();
    Exception failure = firstFailure.get();
    if (failure != null) {
      throw new IOException("catalog changes not acknowledged by Kafka; the sync will be retried: "
          + failure.getMessage(), failure);
    }
  }
}
