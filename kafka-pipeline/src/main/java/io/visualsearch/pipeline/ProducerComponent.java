package io.visualsearch.pipeline;

import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import java.time.Duration;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.Producer;

/**
 * The service's one producer. Started before anything that sends and closed after it, so a stop
 * flushes every record the consumers already counted as sent.
 */
public final class ProducerComponent implements Component {

  private final Supplier<Producer<byte[], byte[]>> factory;
  private volatile Producer<byte[], byte[]> producer;

  public ProducerComponent(Supplier<Producer<byte[], byte[]>> factory) {
    this.factory = factory;
  }

  @Override
  public String name() {
    return "kafka-producer";
  }

  @Override
  public void start() {
    producer = factory.get();
  }

  public Producer<byte[], byte[]> producer() {
    if (producer == null) {
      throw new IllegalStateException("producer not started");
    }
    return producer;
  }

  @Override
  public CheckResult check() {
    return producer == null ? CheckResult.failed("not started") : CheckResult.OK;
  }

  @Override
  public void close() {
    Producer<byte[], byte[]> p = producer;
    if (p != null) {
      p.flush();
      p.close(Duration.ofSeconds(10));
    }
  }
}
