package io.visualsearch.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.config.ConfigDef;
import io.visualsearch.config.ConfigException;
import io.visualsearch.config.Setting;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ServiceHostTest {

  final List<String> events = new ArrayList<>();

  Component recording(String name, boolean failOnStart) {
    return new Component() {
      @Override public String name() { return name; }
      @Override public void start() {
        if (failOnStart) {
          throw new IllegalStateException("port taken");
        }
        events.add("start " + name);
      }
      @Override public CheckResult check() { return CheckResult.OK; }
      @Override public void close() { events.add("close " + name); }
    };
  }

  @Test
  void closesInReverseStartOrderExactlyOnce() throws Exception {
    ServiceHost host = new ServiceHost("svc");
    host.add(recording("client", false));
    host.add(recording("producer", false));
    host.add(recording("intake", false));
    host.start();
    host.close();
    host.close();
    assertEquals(List.of("start client", "start producer", "start intake",
        "close intake", "close producer", "close client"), events);
    assertEquals(ExitCode.OK, host.awaitStop());
  }

  @Test
  void aStopTellsEveryComponentToStopTakingWorkBeforeItClosesAny() throws Exception {
    ServiceHost host = new ServiceHost("svc");
    for (String name : List.of("producer", "intake-1", "intake-2")) {
      host.add(new Component() {
        @Override public String name() { return name; }
        @Override public CheckResult check() { return CheckResult.OK; }
        @Override public void beginStop() { events.add("stop taking " + name); }
        @Override public void close() { events.add("close " + name); }
      });
    }
    host.start();
    host.close();
    assertEquals(List.of("stop taking intake-2", "stop taking intake-1", "stop taking producer",
        "close intake-2", "close intake-1", "close producer"), events);
    assertEquals(ExitCode.OK, host.awaitStop());
  }

  @Test
  void startFailureClosesOnlyWhatStartedAndNamesTheComponent() {
    ServiceHost host = new ServiceHost("svc");
    host.add(recording("client", false));
    host.add(recording("broker-link", true));
    host.add(recording("intake", false));
    ServiceStartException e = assertThrows(ServiceStartException.class, host::start);
    assertEquals("svc: broker-link failed to start: port taken", e.getMessage());
    assertEquals(List.of("start client", "close client"), events);
  }

  @Test
  void aFailedComponentStopsTheServiceWithFailedExitCode() throws Exception {
    ServiceHost host = new ServiceHost("svc");
    Component worker = host.add(recording("worker", false));
    host.start();
    host.fail(worker, new RuntimeException("poll thread died"));
    assertTrue(host.awaitStop(Duration.ofSeconds(5)));
    assertEquals(ExitCode.FAILED, host.awaitStop());
    assertEquals(List.of("start worker", "close worker"), events);
  }

  @Test
  void whatClosesKnowsWhetherTheStopIsAFailureOrARequest() throws Exception {
    for (boolean failing : new boolean[] {true, false}) {
      ServiceHost host = new ServiceHost("svc");
      List<Boolean> seenWhileClosing = new java.util.concurrent.CopyOnWriteArrayList<>();
      Component worker = host.add(new Component() {
        @Override public String name() { return "heartbeat"; }
        @Override public CheckResult check() { return CheckResult.OK; }
        @Override public void close() { seenWhileClosing.add(host.failed()); }
      });
      host.start();
      if (failing) {
        host.fail(worker, new RuntimeException("poll thread died"));
      } else {
        host.close();
      }
      assertTrue(host.awaitStop(Duration.ofSeconds(5)));
      assertEquals(List.of(failing), seenWhileClosing, "a heartbeat's last beat says failed or stopping by it");
    }
  }

  @Test
  void aStopThatOutlastsItsLimitEndsWithoutWaitingAndSaysSo() throws Exception {
    ServiceHost host = new ServiceHost("svc").stopWithin(Duration.ofMillis(200));
    CountDownLatch stuck = new CountDownLatch(1);
    host.add(new Component() {
      @Override public String name() { return "batch"; }
      @Override public void start() { }
      @Override public CheckResult check() { return CheckResult.OK; }
      @Override public void close() {
        try {
          stuck.await(); // a batch that does not end
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    });
    host.start();
    host.close();
    assertTrue(host.awaitStop(Duration.ofSeconds(30)), "stopped although a component never finished closing");
    assertEquals(ExitCode.STOP_TIMED_OUT, host.awaitStop());
    stuck.countDown();
  }

  @Test
  void aStopDuringStartClosesTheComponentStartingThenAndStartsNoLaterOne() throws Exception {
    ServiceHost host = new ServiceHost("svc");
    CountDownLatch loading = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    host.add(recording("producer", false));
    host.add(new Component() {
      @Override public String name() { return "model"; }
      @Override public void start() {
        loading.countDown();
        try {
          release.await(); // a slow load, during which SIGTERM arrives
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        events.add("start model");
      }
      @Override public CheckResult check() { return CheckResult.OK; }
      @Override public void close() { events.add("close model"); }
    });
    host.add(recording("intake", false));
    // Whatever start() throws is kept: a stop requested while starting is not a failed start.
    AtomicReference<Throwable> startFailure = new AtomicReference<>();
    Thread starting = new Thread(() -> {
      try {
        host.start();
      } catch (Throwable e) {
        startFailure.set(e);
      }
    });
    starting.start();
    loading.await();
    Thread stopping = new Thread(host::close);
    stopping.start();
    while (stopping.getState() != Thread.State.BLOCKED) {
      Thread.sleep(5); // until the stop waits for the start under way
    }
    release.countDown();
    starting.join();
    assertNull(startFailure.get(), () -> "start() failed on a requested stop: " + startFailure.get());
    stopping.join();
    assertEquals(ExitCode.OK, host.awaitStop());
    assertEquals(List.of("start producer", "start model", "close model", "close producer"), events,
        "the intake never starts against closed producers, and the rest close in order");
  }

  @Test
  void aStopDuringAStartThatOutlastsTheLimitEndsTheWaitWithTheTimedOutCode() throws Exception {
    ServiceHost host = new ServiceHost("svc").stopWithin(Duration.ofMillis(200));
    CountDownLatch starting = new CountDownLatch(1);
    CountDownLatch never = new CountDownLatch(1);
    host.add(new Component() {
      @Override public String name() { return "replay"; }
      @Override public void start() throws InterruptedException {
        starting.countDown();
        never.await(); // a replay of minutes
      }
      @Override public CheckResult check() { return CheckResult.OK; }
      @Override public void close() { }
    });
    java.util.concurrent.CompletableFuture<ExitCode> ended = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        return host.startAndAwaitStop();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    try {
      assertTrue(starting.await(30, java.util.concurrent.TimeUnit.SECONDS));
      host.close();
      // A hang guard: before, the wait lasted as long as the start did.
      assertEquals(ExitCode.STOP_TIMED_OUT, ended.get(30, java.util.concurrent.TimeUnit.SECONDS));
    } finally {
      never.countDown();
    }
  }

  @Test
  void componentsClosingInAStopSeeWhenItBegan() throws Exception {
    ServiceHost host = new ServiceHost("svc");
    List<java.util.OptionalLong> seen = new ArrayList<>();
    host.add(new Component() {
      @Override public String name() { return "loop"; }
      @Override public CheckResult check() { return CheckResult.OK; }
      @Override public void close() { seen.add(host.stopBegan()); }
    });
    host.start();
    assertTrue(host.stopBegan().isEmpty(), "running: no stop");
    long before = System.nanoTime();
    host.close();
    assertEquals(1, seen.size());
    assertTrue(seen.get(0).isPresent() && seen.get(0).getAsLong() - before >= 0, "set before the first close");
  }

  @Test
  void componentsDrainingOneAfterAnotherShareTheAllowance() throws Exception {
    ServiceHost host = new ServiceHost("svc");
    Duration allowance = Duration.ofSeconds(20);
    List<Duration> left = new ArrayList<>();
    host.add(new Component() {
      @Override public String name() { return "grpc"; }
      @Override public CheckResult check() { return CheckResult.OK; }
      @Override public void close() { left.add(host.stopTimeLeft(allowance)); }
    });
    host.add(new Component() {
      @Override public String name() { return "http"; }
      @Override public CheckResult check() { return CheckResult.OK; }
      @Override public void close() {
        try {
          Thread.sleep(300); // draining its requests
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    });
    host.start();
    assertEquals(allowance, host.stopTimeLeft(allowance), "running: all of it");
    host.close();
    assertTrue(left.get(0).compareTo(allowance.minusMillis(300)) <= 0, "what the first left: " + left.get(0));
    assertEquals(Duration.ZERO, host.stopTimeLeft(Duration.ofMillis(1)), "spent: none, never negative");
  }

  @Test
  void startAndAwaitStopReportsAFailedStart() {
    ServiceHost host = new ServiceHost("svc");
    host.add(recording("client", false));
    host.add(recording("server", true));
    ServiceStartException e = assertThrows(ServiceStartException.class, host::startAndAwaitStop);
    assertTrue(e.getMessage().contains("server failed to start"), e.getMessage());
    assertEquals(List.of("start client", "close client"), events);
  }

  @Test
  void aNativeLibraryThatDoesNotLoadAtStartIsAFailedStart() {
    ServiceHost host = new ServiceHost("svc");
    host.add(recording("client", false));
    host.add(new Component() {
      @Override public String name() { return "faiss"; }
      @Override public void start() { throw new UnsatisfiedLinkError("no jnifaiss in java.library.path"); }
      @Override public CheckResult check() { return CheckResult.OK; }
      @Override public void close() { events.add("close faiss"); }
    });
    ServiceStartException e = assertThrows(ServiceStartException.class, host::startAndAwaitStop);
    assertTrue(e.getMessage().contains("faiss failed to start: no jnifaiss"), e.getMessage());
    assertEquals(List.of("start client", "close client"), events, "what started is closed");
    assertEquals(ExitCode.START_FAILED, ServiceMain.run("svc", new ConfigDef(), Map.of(), (c, h) -> h.add(
        new Component() {
          @Override public String name() { return "faiss"; }
          @Override public void start() { throw new UnsatisfiedLinkError("no jnifaiss"); }
          @Override public CheckResult check() { return CheckResult.OK; }
          @Override public void close() { }
        })));
  }

  @Test
  void anErrorClosingOneComponentStillClosesTheOthersAndEndsTheStop() throws Exception {
    ServiceHost host = new ServiceHost("svc").stopWithin(Duration.ofSeconds(30));
    host.add(recording("client", false));
    host.add(new Component() {
      @Override public String name() { return "broken"; }
      @Override public CheckResult check() { return CheckResult.OK; }
      @Override public void close() { throw new NoClassDefFoundError("a class missing from the image"); }
    });
    host.add(recording("intake", false));
    host.start();
    host.close();
    assertTrue(host.awaitStop(Duration.ofSeconds(30)), "the stop ends");
    assertEquals(List.of("start client", "start intake", "close intake", "close client"), events);
  }

  @Test
  void aDrainCutShortIsNotACleanStop() throws Exception {
    ServiceHost host = new ServiceHost("svc");
    Component loop = recording("loop", false);
    host.add(loop);
    host.start();
    host.drainCutShort(loop, "the batch in hand outlasted the drain limit");
    host.close();
    assertEquals(ExitCode.STOP_TIMED_OUT, host.awaitStop(), "its records are handled again after the restart");

    ServiceHost failed = new ServiceHost("svc");
    failed.add(loop);
    failed.start();
    failed.fail(loop, new IllegalStateException("poll thread died"));
    failed.drainCutShort(loop, "the batch in hand outlasted the drain limit");
    assertEquals(ExitCode.FAILED, failed.awaitStop(), "a worse end stays the answer");
  }

  @Test
  void missingRequiredConfigurationExitsWithConfigError() {
    ConfigDef def = new ConfigDef().define(Setting.string("KAFKA_BOOTSTRAP_SERVERS"));
    ExitCode code = ServiceMain.run("svc", def, Map.of(), (c, h) -> events.add("wired"));
    assertEquals(ExitCode.CONFIG_ERROR, code);
    assertTrue(events.isEmpty());
  }

  @Test
  void settingsThatConflictWhileWiringExitWithConfigErrorNotAFailedStart() {
    ExitCode code = ServiceMain.run("svc", new ConfigDef(), Map.of(), (c, h) -> {
      throw new ConfigException(List.of("A and B cannot both be set"));
    });
    assertEquals(ExitCode.CONFIG_ERROR, code);
  }
}
