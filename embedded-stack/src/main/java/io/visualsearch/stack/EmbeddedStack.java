package io.visualsearch.stack;

import io.visualsearch.config.Config;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import io.visualsearch.topics.TopicInitializer;
import io.visualsearch.topics.Topics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real components the pipeline runs on, started on loopback: a KRaft Kafka broker, an
 * S3-compatible server with the bucket created, and Zipkin; then every pipeline topic with its
 * cleanup policy. {@link #serviceEnvironment()} is what a service needs to talk to it.
 */
public final class EmbeddedStack implements Component {

  private static final Logger log = LoggerFactory.getLogger(EmbeddedStack.class);

  /**
   * The file that marks a data directory as the stack's own, written when the stack starts on an
   * absent or empty directory: the demo deletes a marked directory at start, and nothing else.
   */
  public static final String DATA_DIR_MARKER = ".visual-search-stack";

  private final Path data;
  private final EmbeddedKafka kafka;
  private final S3ProxyServer s3;
  private final ZipkinServer zipkin;
  private final int partitions;
  /** Also read by close() on a shutdown hook's thread while start() runs. */
  private final List<Component> started = new CopyOnWriteArrayList<>();

  public EmbeddedStack(Config config) {
    String host = config.get(StackSettings.HOST);
    this.data = Path.of(config.get(StackSettings.DATA_DIR)).toAbsolutePath();
    StackJars jars = new StackJars();
    PortAllocator free = new PortAllocator(host, 0);
    this.kafka = new EmbeddedKafka(host, port(free, config.get(StackSettings.KAFKA_PORT)),
        port(free, config.get(StackSettings.KAFKA_CONTROLLER_PORT)), data.resolve("kafka"));
    this.s3 = new S3ProxyServer(jars.s3proxy(), host, port(free, config.get(StackSettings.S3_PORT)),
        data.resolve("s3"), config.get(StackSettings.BUCKET));
    this.zipkin = new ZipkinServer(jars.zipkin(), host, port(free, config.get(StackSettings.ZIPKIN_PORT)),
        data.resolve("zipkin"));
    this.partitions = config.get(StackSettings.PARTITIONS);
  }

  /**
   * The requested port, or for 0 a free one from {@link PortAllocator}: s3proxy and Zipkin bind
   * theirs seconds later in their own JVMs while this JVM's Kafka clients connect, and a port from
   * {@code new ServerSocket(0)} could meanwhile become one of those connections' local port.
   */
  private static int port(PortAllocator free, int requested) {
    return requested != 0 ? requested : free.next();
  }

  @Override
  public String name() {
    return "embedded-stack";
  }

  /**
   * Starts the two child processes first (they take longest) while Kafka starts in-process. When
   * any part fails, every part is stopped before the failure is thrown: the caller's close() only
   * knows what started, and a child still starting would otherwise come up after it and outlive
   * this JVM.
   */
  @Override
  public void start() throws Exception {
    long t0 = System.nanoTime();
    markDataDir();
    Thread zipkinStart = null;
    Thread s3Start = null;
    try {
      zipkinStart = startAsync(zipkin);
      s3Start = startAsync(s3);
      kafka.start();
      started.add(kafka);
      createTopics();
      joinStart(s3Start, s3);
      joinStart(zipkinStart, zipkin);
    } catch (Exception | Error e) {
      awaitEnd(s3Start);
      awaitEnd(zipkinStart);
      startFailures.values().stream().filter(f -> f != e).forEach(e::addSuppressed);
      started.clear();
      // Each is a no-op when it never started.
      for (Component c : List.of(zipkin, s3, kafka)) {
        try {
          c.close();
        } catch (RuntimeException closing) {
          e.addSuppressed(closing);
        }
      }
      throw e;
    }
    log.info("embedded stack up in {} ms: kafka {}, s3 {}, zipkin {}", (System.nanoTime() - t0) / 1_000_000,
        kafka.bootstrapServers(), s3.endpoint(), zipkin.baseUrl());
  }

  /**
   * Stops the s3proxy and Zipkin a previous stack on {@code dataDir} left running (its JVM was
   * killed with SIGKILL): for whoever deletes the directory before a start, which removes the PID
   * files each server's own start would otherwise find.
   */
  public static void stopLeftovers(Path dataDir) throws IOException {
    StackJars jars = new StackJars();
    Path data = dataDir.toAbsolutePath();
    ChildProcess.stopLeftover(S3ProxyServer.NAME, jars.s3proxy(), data.resolve("s3"));
    ChildProcess.stopLeftover(ZipkinServer.NAME, jars.zipkin(), data.resolve("zipkin"));
  }

  /** Before any part writes to it: a directory holding only the marker is still the stack's own. */
  private void markDataDir() throws IOException {
    Files.createDirectories(data);
    Path marker = data.resolve(DATA_DIR_MARKER);
    if (Files.exists(marker)) {
      return;
    }
    try (var entries = Files.list(data)) {
      if (entries.findAny().isEmpty()) {
        Files.writeString(marker, "Created by the visual-search embedded stack; the demo deletes this directory"
            + " at start.\n");
      }
    }
  }

  private final Map<Component, Exception> startFailures = Collections.synchronizedMap(new LinkedHashMap<>());

  private Thread startAsync(Component c) {
    Thread t = new Thread(() -> {
      try {
        c.start();
      } catch (Exception e) {
        startFailures.put(c, e);
      }
    }, "start-" + c.name());
    t.start();
    return t;
  }

  private void joinStart(Thread t, Component c) throws Exception {
    t.join();
    Exception e = startFailures.get(c);
    if (e != null) {
      throw e;
    }
    started.add(c);
  }

  /** Waits out a start in progress even when interrupted: closing a child mid-start races its spawn. */
  private static void awaitEnd(Thread t) {
    if (t == null) {
      return;
    }
    boolean interrupted = false;
    while (t.isAlive()) {
      try {
        t.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private void createTopics() throws Exception {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    try (Admin admin = Admin.create(p)) {
      new TopicInitializer(admin, partitions, (short) 1).ensure(Topics.all());
    }
  }

  public String kafkaBootstrapServers() {
    return kafka.bootstrapServers();
  }

  public S3ProxyServer s3() {
    return s3;
  }

  public ZipkinServer zipkin() {
    return zipkin;
  }

  public EmbeddedKafka kafka() {
    return kafka;
  }

  /** Where this stack's parts answer. */
  public StackEndpoints endpoints() {
    return new StackEndpoints(kafka.bootstrapServers(), s3.endpoint(), s3.bucket(), zipkin.baseUrl());
  }

  /** The environment variables that point a service at this stack: {@link StackEndpoints#serviceEnvironment()}. */
  public Map<String, String> serviceEnvironment() {
    return endpoints().serviceEnvironment();
  }

  @Override
  public CheckResult check() {
    for (Component c : List.of(kafka, s3, zipkin)) {
      CheckResult r = c.check();
      if (!r.ok()) {
        return CheckResult.failed(c.name() + ": " + r.detail());
      }
    }
    return CheckResult.OK;
  }

  /**
   * Also stops the two servers while they are still starting (a stop during start-up, such as the
   * demo's shutdown hook on Ctrl-C): they join {@code started} only once up, and a spawn that ends
   * after this destroys itself.
   */
  @Override
  public void close() {
    List<Component> toClose = new ArrayList<>(started);
    Collections.reverse(toClose);
    started.clear();
    for (Component child : List.of(zipkin, s3)) {
      if (!toClose.contains(child)) {
        toClose.add(0, child);
      }
    }
    for (Component c : toClose) {
      try {
        c.close();
      } catch (RuntimeException e) {
        log.warn("{} did not stop cleanly", c.name(), e);
      }
    }
  }
}
