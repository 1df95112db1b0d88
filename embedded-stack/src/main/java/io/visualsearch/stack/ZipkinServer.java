package io.visualsearch.stack;

import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** A Zipkin server with in-memory storage, bound to one address. */
public final class ZipkinServer implements Component {

  static final String NAME = "zipkin";

  private final String host;
  private final int port;
  private final ChildProcess process;

  ZipkinServer(Path jar, String host, int port, Path dataDir) {
    this.host = host;
    this.port = port;
    this.process = new ChildProcess(NAME, jar, UnpackedBootJar.inTemporaryDirectory(jar),
        // C1 only: the server's start took 15 s of CPU with C2 and 7 s without, on two cores shared
        // with the broker's start and every test's stack; the spans of a local stack never need C2's code.
        List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"),
        List.of("--armeria.ports[0].port=" + port, "--armeria.ports[0].ip=" + host,
            "--armeria.ports[0].protocols=http"),
        Map.of("STORAGE_TYPE", "mem", "MEM_MAX_SPANS", "200000", "QUERY_PORT", String.valueOf(port),
            "COLLECTOR_SCRIBE_ENABLED", "false", "SELF_TRACING_ENABLED", "false"),
        URI.create(baseUrl() + "/health"), dataDir.resolve(NAME + ".log"), Duration.ofSeconds(90),
        StackSettings.ZIPKIN_PORT.env());
  }

  public String baseUrl() {
    return baseUrl(host, port);
  }

  public String spansEndpoint() {
    return spansEndpoint(baseUrl());
  }

  static String baseUrl(String host, int port) {
    return "http://" + host + ":" + port;
  }

  static String spansEndpoint(String baseUrl) {
    return baseUrl + "/api/v2/spans";
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void start() throws Exception {
    process.start();
  }

  @Override
  public CheckResult check() {
    return process.check();
  }

  @Override
  public void close() {
    process.close();
  }
}
