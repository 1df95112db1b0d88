package io.visualsearch.stack;

import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import java.io.PrintStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.Set;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A single-node Kafka broker in KRaft mode (combined broker + controller), in this JVM, bound to
 * one address. The log directory survives {@link #close()}, so a restart on the same directory
 * brings back every topic and committed offset, which is what broker-restart tests need.
 */
public final class EmbeddedKafka implements Component {

  private final String host;
  private final int port;
  private final int controllerPort;
  private final Path logDir;
  private volatile KafkaRaftServer server;

  public EmbeddedKafka(String host, int port, int controllerPort, Path logDir) {
    this.host = host;
    this.port = port;
    this.controllerPort = controllerPort;
    this.logDir = logDir;
  }

  @Override
  public String name() {
    return "kafka";
  }

  public String bootstrapServers() {
    return bootstrapServers(host, port);
  }

  static String bootstrapServers(String host, int port) {
    return host + ":" + port;
  }

  @Override
  public void start() throws Exception {
    FreePort.require("kafka", host, port, StackSettings.KAFKA_PORT.env());
    FreePort.require("kafka controller", host, controllerPort, StackSettings.KAFKA_CONTROLLER_PORT.env());
    Files.createDirectories(logDir);
    Properties props = brokerProperties();
    if (!Files.exists(logDir.resolve("meta.properties"))) {
      new Formatter()
          .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
          .setClusterId(Uuid.randomUuid().toString())
          .setNodeId(1)
          .setControllerListenerName("CONTROLLER")
          .setMetadataLogDirectory(logDir.toString())
          .setDirectories(Set.of(logDir.toString()))
          .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
          .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
          .run();
    }
    KafkaRaftServer s = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
    try {
      s.startup();
    } catch (RuntimeException | Error e) {
      // The controller may be up when the broker fails (its port taken): it must not keep running.
      try {
        s.shutdown();
        s.awaitShutdown();
      } catch (RuntimeException stopping) {
        e.addSuppressed(stopping);
      }
      throw e;
    }
    server = s;
  }

  private Properties brokerProperties() {
    Properties p = new Properties();
    p.put("process.roles", "broker,controller");
    p.put("node.id", "1");
    p.put("controller.quorum.voters", "1@" + host + ":" + controllerPort);
    p.put("listeners", "PLAINTEXT://" + host + ":" + port + ",CONTROLLER://" + host + ":" + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://" + host + ":" + port);
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("controller.listener.names", "CONTROLLER");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("log.dirs", logDir.toString());
    // One node: every internal topic must fit on it or consumers never receive.
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "5");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("min.insync.replicas", "1");
    p.put("default.replication.factor", "1");
    p.put("num.partitions", "3");
    p.put("group.initial.rebalance.delay.ms", "0");
    // The cleaner's default 128 MiB dedupe buffer does not fit the small heaps we run with.
    p.put("log.cleaner.dedupe.buffer.size", "4194304");
    p.put("log.cleaner.backoff.ms", "5000");
    p.put("auto.create.topics.enable", "false");
    p.put("log.segment.bytes", "16777216");
    return p;
  }

  @Override
  public CheckResult check() {
    return server == null ? CheckResult.failed("not running") : CheckResult.OK;
  }

  @Override
  public void close() {
    KafkaRaftServer s = server;
    server = null;
    if (s != null) {
      s.shutdown();
      s.awaitShutdown();
    }
  }
}
