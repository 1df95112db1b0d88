package io.visualsearch.pipeline;

import io.visualsearch.proto.events.Heartbeat;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import io.visualsearch.runtime.ReadinessReport;
import io.visualsearch.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Publishes this instance's {@link Activity} to {@code service.health} for the health page. */
public final class HeartbeatPublisher implements Component {

  private static final Logger log = LoggerFactory.getLogger(HeartbeatPublisher.class);

  private final String service;
  private final String instance;
  private final Activity activity;
  private final Supplier<Producer<byte[], byte[]>> producer;
  private final Duration interval;
  private final Supplier<ReadinessReport> readiness;
  private final BooleanSupplier failed;
  private ScheduledExecutorService timer;
  /** This process's beats, told apart from another's under the same instance name. */
  private volatile long startedAtMs;
  /**
   * Whether the last beat was written: a broker refusing the writes (an ACL without WRITE on
   * service.health) failed every beat asynchronously, unseen, and the instance dropped off the
   * health page while its own readiness stayed green.
   */
  private final DeliveryState delivery;

  /**
   * @param readiness the service's readiness, sent on every beat: whether it is ready and, when
   *     not, which checks fail (names only: the health page is on a public port)
   * @param failed whether the service is stopping because a part of it failed (not on request):
   *     its last beat then says failed, not stopping, so the health page shows it as an outage
   */
  public HeartbeatPublisher(String service, String instance, Activity activity,
      Supplier<Producer<byte[], byte[]>> producer, Duration interval, Supplier<ReadinessReport> readiness,
      BooleanSupplier failed) {
    this.service = service;
    this.instance = instance;
    this.activity = activity;
    this.producer = producer;
    this.interval = interval;
    this.readiness = readiness;
    this.failed = failed;
    this.delivery = new DeliveryState(log, service + ": heartbeats to " + Topics.SERVICE_HEALTH.name()
        + " are not written, so the health page will show this instance stale", service
        + ": heartbeats are written again");
  }

  @Override
  public String name() {
    return "heartbeat";
  }

  @Override
  public void start() {
    startedAtMs = System.currentTimeMillis();
    timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, service + "-heartbeat");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleAtFixedRate(this::beat, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  void beat() {
    beat(false);
  }

  private void beat(boolean last) {
    try {
      Heartbeat.Builder hb = Heartbeat.newBuilder()
          .setService(service)
          .setInstance(instance)
          .setTimestampMs(System.currentTimeMillis())
          .setActivityTotal(activity.handled())
          .setErrorTotal(activity.errors())
          .setDlqTotal(activity.deadLettered())
          .setLastActivityMs(activity.lastActivityMs())
          .setConsumerLag(activity.lag())
          .setIntervalMs(interval.toMillis())
          .setStartedAtMs(startedAtMs);
      // The last beat goes out while the loops are only asked to stop, so their readiness still
      // says yes: sent as it was, the health page showed a stopped instance healthy until stale.
      if (last && failed.getAsBoolean()) {
        hb.setReady(false).setDetail("failed");
      } else if (last) {
        hb.setReady(false).setStopping(true).setDetail("stopping");
      } else {
        ReadinessReport report = readiness.get();
        hb.setReady(report.ready());
        if (!report.ready()) {
          // The page said "not ready" and nothing more; an SRE had to find that pod's /readyz.
          hb.setDetail(String.join(", ", report.failing()));
        }
      }
      producer.get().send(new ProducerRecord<>(Topics.SERVICE_HEALTH.name(),
          (service + "/" + instance).getBytes(StandardCharsets.UTF_8), hb.build().toByteArray()),
          (metadata, e) -> {
            if (e == null) {
              delivery.delivered();
            } else {
              delivery.failed(e);
            }
          });
    } catch (RuntimeException e) {
      delivery.failed(e);
    }
  }

  /**
   * Ready once started; a beat that could not be written is reported, not made a readiness
   * failure: the service works without its row on the health page, and an unready instance would
   * be taken out of rotation for a monitoring problem.
   */
  @Override
  public CheckResult check() {
    if (timer == null) {
      return CheckResult.failed("not started");
    }
    String failure = delivery.lastFailure();
    return failure == null ? CheckResult.OK : new CheckResult(true, "last heartbeat not written: " + failure);
  }

  @Override
  public void close() {
    if (timer != null) {
      timer.shutdownNow();
      try {
        // A timer beat still being sent would otherwise follow the last one and say ready again.
        timer.awaitTermination(1, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      beat(true);
    }
  }
}
