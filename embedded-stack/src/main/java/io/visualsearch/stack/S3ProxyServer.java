package io.visualsearch.stack;

import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * An S3-compatible server (s3proxy, filesystem backend) on one address, with the deployment's
 * bucket created up front: with the filesystem backend a bucket is a directory under the base.
 */
public final class S3ProxyServer implements Component {

  static final String NAME = "s3proxy";

  public static final String ACCESS_KEY = "visual-search";
  public static final String SECRET_KEY = "visual-search-local-secret";

  private final String host;
  private final int port;
  private final Path dataDir;
  private final String bucket;
  private final ChildProcess process;

  S3ProxyServer(Path jar, String host, int port, Path dataDir, String bucket) {
    this.host = host;
    this.port = port;
    this.dataDir = dataDir;
    this.bucket = bucket;
    this.process = new ChildProcess(NAME, jar, List.of("-Xmx256m"),
        List.of("--properties", dataDir.resolve("s3proxy.properties").toString()), Map.of(),
        URI.create(endpoint() + "/"), dataDir.resolve(NAME + ".log"), Duration.ofSeconds(60),
        StackSettings.S3_PORT.env());
  }

  public String endpoint() {
    return endpoint(host, port);
  }

  static String endpoint(String host, int port) {
    return "http://" + host + ":" + port;
  }

  public String bucket() {
    return bucket;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void start() throws Exception {
    Path blobs = dataDir.resolve("blobs");
    Files.createDirectories(blobs.resolve(bucket));
    Properties p = new Properties();
    p.setProperty("s3proxy.endpoint", endpoint());
    p.setProperty("s3proxy.authorization", "aws-v2-or-v4");
    p.setProperty("s3proxy.identity", ACCESS_KEY);
    p.setProperty("s3proxy.credential", SECRET_KEY);
    // The SDK sends headers s3proxy does not know; refusing them would fail every write.
    p.setProperty("s3proxy.ignore-unknown-headers", "true");
    p.setProperty("jclouds.provider", "filesystem");
    p.setProperty("jclouds.filesystem.basedir", blobs.toString());
    try (var out = Files.newOutputStream(dataDir.resolve("s3proxy.properties"))) {
      p.store(out, "written by the embedded stack");
    }
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
