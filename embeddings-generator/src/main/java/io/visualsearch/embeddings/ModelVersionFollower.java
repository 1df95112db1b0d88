package io.visualsearch.embeddings;

import io.visualsearch.modelclient.ModelClient;
import io.visualsearch.modelclient.ModelUnavailableException;
import io.visualsearch.pipeline.ConsumerLoop;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one consumer loop per served model version. Each version has its own consumer group, so a
 * new version starts from the beginning of the compacted images.ready topic and re-embeds the
 * whole catalog, while a restart of the same version resumes where its group committed. The old
 * version's loop stops once the new one runs; the index-builder keeps the versions apart.
 */
final class ModelVersionFollower implements Component {

  private static final Logger log = LoggerFactory.getLogger(ModelVersionFollower.class);

  private final ModelClient model;
  private final LongFunction<ConsumerLoop> loopForVersion;
  private final Duration interval;
  private ScheduledExecutorService timer;
  private volatile ConsumerLoop current;
  private volatile long version = -1;
  private volatile String waiting = "model server not asked yet";

  ModelVersionFollower(ModelClient model, LongFunction<ConsumerLoop> loopForVersion, Duration interval) {
    this.model = model;
    this.loopForVersion = loopForVersion;
    this.interval = interval;
  }

  @Override
  public String name() {
    return "model-version-follower";
  }

  @Override
  public void start() {
    timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "model-version-follower");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleWithFixedDelay(this::poll, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  void poll() {
    try {
      OptionalLong served = model.servedVersion();
      if (served.isEmpty()) {
        waitFor("model " + model.modelName() + " has no available version yet");
        return;
      }
      waiting = null;
      long v = served.getAsLong();
      if (v == version) {
        return;
      }
      log.info("model {} version {} is served (was {}): embedding the catalog with it", model.modelName(), v, version);
      ConsumerLoop next = loopForVersion.apply(v);
      next.start();
      ConsumerLoop previous = current;
      current = next;
      version = v;
      if (previous != null) {
        previous.close();
      }
    } catch (ModelUnavailableException e) {
      waitFor(e.getMessage());
    } catch (Throwable e) {
      // A scheduled task that throws is never run again: report and keep following.
      waitFor("cannot follow model versions: " + e);
      log.warn("model version check failed", e);
    }
  }

  private void waitFor(String reason) {
    if (!reason.equals(waiting)) {
      log.info("waiting for the model server: {}", reason);
    }
    waiting = reason;
  }

  long version() {
    return version;
  }

  @Override
  public CheckResult check() {
    ConsumerLoop loop = current;
    if (loop == null) {
      return CheckResult.failed(waiting == null ? "no model version yet" : waiting);
    }
    CheckResult r = loop.check();
    return r.ok() ? new CheckResult(true, "embedding with model version " + version) : r;
  }

  @Override
  public void close() {
    if (timer != null) {
      timer.shutdownNow();
      try {
        timer.awaitTermination(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    ConsumerLoop loop = current;
    if (loop != null) {
      loop.close();
    }
  }
}
