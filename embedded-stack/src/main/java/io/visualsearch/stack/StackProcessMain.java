package io.visualsearch.stack;

import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigException;
import io.visualsearch.runtime.Component;
import io.visualsearch.runtime.ExitCode;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs ONE part of the embedded stack as its own OS process — {@code kafka}, {@code s3} or
 * {@code zipkin} — on the ports and data directory the {@code STACK_*} variables give, until
 * SIGTERM. A multi-process cluster uses it so each part can be killed and restarted alone: the
 * broker keeps its log directory (topics and committed offsets survive a restart), s3proxy its
 * filesystem blobs. Topics are not created here; whoever needs them creates them idempotently.
 *
 * <p>For s3 and zipkin this JVM is a thin supervisor of the server's own JVM (that is how
 * {@link S3ProxyServer} and {@link ZipkinServer} run them); it exits with 4 when that child dies,
 * and takes the child down with it on SIGTERM. A SIGKILL of this JVM leaves the child running, so
 * a killer must kill the process tree.
 */
public final class StackProcessMain {

  private StackProcessMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: StackProcessMain kafka|s3|zipkin   (ports and data dir from STACK_* variables)");
      System.exit(ExitCode.CONFIG_ERROR.code());
    }
    Config config;
    try {
      config = StackSettings.definition().parse(System.getenv());
    } catch (ConfigException e) {
      System.err.println("stack: " + e.getMessage());
      System.exit(ExitCode.CONFIG_ERROR.code());
      return;
    }
    Component part = part(args[0], config);
    if (part == null) {
      System.err.println("stack: unknown part '" + args[0] + "' (kafka, s3 or zipkin)");
      System.exit(ExitCode.CONFIG_ERROR.code());
      return;
    }
    try {
      part.start();
    } catch (Exception e) {
      System.err.println("stack: " + part.name() + " did not start: " + e);
      part.close();
      System.exit(ExitCode.START_FAILED.code());
    }
    System.out.println("stack: " + part.name() + " ready");
    AtomicBoolean stopping = new AtomicBoolean();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      stopping.set(true);
      part.close();
    }, "stack-shutdown"));
    // Watch the part: a dead child server must not leave a healthy-looking supervisor behind.
    while (true) {
      if (!stopping.get() && !part.check().ok()) {
        System.err.println("stack: " + part.name() + " died: " + part.check().detail());
        Runtime.getRuntime().halt(ExitCode.FAILED.code());
      }
      Thread.sleep(500);
    }
  }

  private static Component part(String name, Config config) {
    String host = config.get(StackSettings.HOST);
    Path data = Path.of(config.get(StackSettings.DATA_DIR)).toAbsolutePath();
    StackJars jars = new StackJars();
    return switch (name) {
      case "kafka" -> new EmbeddedKafka(host, config.get(StackSettings.KAFKA_PORT),
          config.get(StackSettings.KAFKA_CONTROLLER_PORT), data.resolve("kafka"));
      case "s3" -> new S3ProxyServer(jars.s3proxy(), host, config.get(StackSettings.S3_PORT), data.resolve("s3"),
          config.get(StackSettings.BUCKET));
      case "zipkin" -> new ZipkinServer(jars.zipkin(), host, config.get(StackSettings.ZIPKIN_PORT),
          data.resolve("zipkin"));
      default -> null;
    };
  }
}
