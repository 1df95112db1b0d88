package io.visualsearch.modelclient;

import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.visualsearch.config.ConfigException;
import io.visualsearch.tracing.GrpcTracing;
import io.visualsearch.tracing.Tracing;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import javax.net.ssl.TrustManagerFactory;

/**
 * The gRPC channel to the model server: its TLS trust material (read when this is made), its
 * service config (retry policy and load balancing, as data), and building and closing it.
 *
 * <p>Threads: {@link #start()} runs once on the thread that starts the service and {@link #close()}
 * once on the one that stops it; {@link #get()} and {@link #current()} are called meanwhile by every
 * thread that calls the model server (consumer threads, gRPC handler threads) and by the readiness
 * check's thread. {@code channel} is volatile so that all of them see the channel start() built.
 */
final class ModelChannel {

  /**
   * The channel's receive window, fixed: gRPC's automatic window tuning answers every answer's data
   * with a PING exchange, two more wake-ups per call on cores the model is using (RATIONALE.md).
   * 4 MiB is several times the largest answer, and a fraction of a millisecond on a LAN.
   */
  static final int FLOW_CONTROL_WINDOW_BYTES = 4 << 20;

  private final String target;
  private final int maxMessageBytes;
  private final Tracing tracing;
  private final Function<String, ManagedChannelBuilder<?>> channelBuilder;
  /** TLS, or null for plaintext. */
  private final ChannelCredentials tls;
  private volatile ManagedChannel channel;

  /**
   * {@code channelBuilder} lets tests use an in-process transport; null means Netty over TCP.
   *
   * @throws ConfigException when the TLS settings are inconsistent or the CA file cannot be used
   */
  ModelChannel(String target, int maxMessageBytes, Tracing tracing,
      Function<String, ManagedChannelBuilder<?>> channelBuilder, boolean tls, String caFile) {
    this.target = target;
    this.maxMessageBytes = maxMessageBytes;
    this.tracing = tracing;
    this.channelBuilder = channelBuilder;
    this.tls = tlsCredentials(tls, caFile);
  }

  /**
   * grpc-java's own TLS (certificate chain and host name checked), trusting the CA file's
   * certificates or the JVM's default trust store. The file is read here, so a missing or unreadable
   * one stops the service at start as a configuration error instead of failing every call later.
   */
  static ChannelCredentials tlsCredentials(boolean tls, String caFile) {
    if (!tls) {
      if (caFile != null) {
        throw new ConfigException(List.of("MODEL_SERVER_TLS_CA_FILE is set but MODEL_SERVER_TLS is false:"
            + " calls would go out in plaintext"));
      }
      return null;
    }
    if (caFile == null) {
      return TlsChannelCredentials.create();
    }
    Collection<? extends Certificate> certificates;
    try (InputStream in = Files.newInputStream(Path.of(caFile))) {
      certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
    } catch (NoSuchFileException e) {
      throw new ConfigException(List.of("MODEL_SERVER_TLS_CA_FILE: " + caFile + " does not exist"));
    } catch (IOException e) {
      throw new ConfigException(List.of("MODEL_SERVER_TLS_CA_FILE: cannot read " + caFile + ": " + e));
    } catch (GeneralSecurityException e) {
      throw new ConfigException(List.of("MODEL_SERVER_TLS_CA_FILE: " + caFile + " is not a PEM file of certificates: "
          + e.getMessage()));
    }
    if (certificates.isEmpty()) {
      throw new ConfigException(List.of("MODEL_SERVER_TLS_CA_FILE: " + caFile + " holds no PEM certificate"));
    }
    try {
      KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
      trusted.load(null, null);
      int i = 0;
      for (Certificate c : certificates) {
        trusted.setCertificateEntry("ca-" + i++, c);
      }
      TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trust.init(trusted);
      return TlsChannelCredentials.newBuilder().trustManager(trust.getTrustManagers()).build();
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("the JVM cannot build a trust store", e);
    }
  }

  /**
   * The retry policy as service-config data: UNAVAILABLE only, a few attempts with backoff, and
   * throttled per channel. A model server shedding load answers UNAVAILABLE; without the throttle
   * every caller would send each request up to four times into that overload. With it, once about
   * five calls in a row have failed, calls go out once each until successes earn retries back
   * (gRPC's token bucket: 10 tokens, a failure costs one, a success returns 0.1, retries only
   * above half), and the callers' own back-off (the consumer loop's pause) takes over.
   *
   * <p>round_robin: a target resolving to several model servers (a headless Service) spreads calls
   * over all of them; gRPC's default, pick_first, sent every call of a client to one of them.
   */
  static Map<String, Object> serviceConfig() {
    Map<String, Object> retryPolicy = Map.of(
        "maxAttempts", 4.0,
        "initialBackoff", "0.1s",
        "maxBackoff", "2s",
        "backoffMultiplier", 2.0,
        "retryableStatusCodes", List.of("UNAVAILABLE"));
    Map<String, Object> methods = Map.of(
        "name", List.of(Map.of("service", "tensorflow.serving.PredictionService"),
            Map.of("service", "tensorflow.serving.ModelService")),
        "retryPolicy", retryPolicy);
    return Map.of("methodConfig", List.of(methods),
        "retryThrottling", Map.of("maxTokens", 10.0, "tokenRatio", 0.1),
        "loadBalancingConfig", List.of(Map.of("round_robin", Map.of())));
  }

  /** Builds the channel; calls go out through it from now on. */
  void start() {
    ManagedChannelBuilder<?> b = channelBuilder != null ? channelBuilder.apply(target)
        : (tls == null ? NettyChannelBuilder.forTarget(target).usePlaintext()
            : NettyChannelBuilder.forTarget(target, tls)).flowControlWindow(FLOW_CONTROL_WINDOW_BYTES);
    channel = b.defaultServiceConfig(serviceConfig())
        .enableRetry()
        // gRPC stops retrying a call once it has sent more than the per-call retry buffer (1 MiB by
        // default): a request of a large image or several would fail on its first UNAVAILABLE.
        .perRpcBufferLimit(maxMessageBytes)
        .retryBufferSize(Math.max(16L << 20, 2L * maxMessageBytes))
        .maxInboundMessageSize(maxMessageBytes)
        .intercept(new GrpcTracing(tracing).clientInterceptor())
        .build();
  }

  /** The channel, for a call. */
  ManagedChannel get() {
    ManagedChannel ch = channel;
    if (ch == null) {
      throw new IllegalStateException("model client not started");
    }
    return ch;
  }

  /** The channel, or null before {@link #start()}. */
  ManagedChannel current() {
    return channel;
  }

  /** Shuts the channel down, waiting up to 5 seconds for calls under way; no-op if never started. */
  void close() {
    ManagedChannel ch = channel;
    if (ch != null) {
      ch.shutdown();
      try {
        if (!ch.awaitTermination(5, TimeUnit.SECONDS)) {
          ch.shutdownNow();
        }
      } catch (InterruptedException e) {
        ch.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
  }
}
