package io.visualsearch.modelclient;

import com.google.protobuf.Int64Value;
import io.grpc.ChannelCredentials;
import io.grpc.ConnectivityState;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.opentelemetry.context.Scope;
import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigException;
import io.visualsearch.proto.tfserving.GetModelMetadataRequest;
import io.visualsearch.proto.tfserving.GetModelMetadataResponse;
import io.visualsearch.proto.tfserving.GetModelStatusRequest;
import io.visualsearch.proto.tfserving.GetModelStatusResponse;
import io.visualsearch.proto.tfserving.ModelServiceGrpc;
import io.visualsearch.proto.tfserving.ModelSpec;
import io.visualsearch.proto.tfserving.ModelVersionStatus;
import io.visualsearch.proto.tfserving.PredictRequest;
import io.visualsearch.proto.tfserving.PredictResponse;
import io.visualsearch.proto.tfserving.PredictionServiceGrpc;
import io.visualsearch.proto.tfserving.SignatureDefMap;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import io.visualsearch.tracing.GrpcTracing;
import io.visualsearch.tracing.Tracing;
import io.visualsearch.tracing.Untraced;
import org.tensorflow.proto.TensorProto;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import javax.net.ssl.TrustManagerFactory;

/**
 * A client of any TensorFlow-Serving-compatible model server (ours, or TensorFlow Serving
 * itself). Every call has a deadline; only UNAVAILABLE is retried by the channel, per the retry
 * policy below, because retrying anything else either cannot help or may double the work.
 */
public final class ModelClient implements Component {

  /**
   * Whose calls these are, told to the model server in the {@value #PRIORITY_HEADER} header: a
   * shopper waiting on a search ({@code INTERACTIVE}) or catalog work ({@code BULK}, no header). Our
   * model server runs an interactive request before any bulk one ready at the same time and keeps a
   * share of its queue for them; TensorFlow Serving ignores the header.
   */
  public enum Priority { INTERACTIVE, BULK }

  /** gRPC metadata naming a call's priority; its one value is {@value #INTERACTIVE}. */
  public static final String PRIORITY_HEADER = "x-request-priority";
  public static final String INTERACTIVE = "interactive";

  private final String target;
  private final String model;
  /** The variant this client embeds with unless a call names another. */
  private final VectorVariant variant;
  private final String input;
  private final Duration deadline;
  private final int maxMessageBytes;
  private final Tracing tracing;
  private final Function<String, ManagedChannelBuilder<?>> channelBuilder;
  /** TLS, or null for plaintext. */
  private final ChannelCredentials tls;
  private final String name;
  /** The priority header's interceptor, or null for bulk calls (no header). */
  private final io.grpc.ClientInterceptor priority;
  private volatile ManagedChannel channel;
  private volatile String lastError;
  /** When the failure in lastError happened, or check() last probed the server about it. */
  private final AtomicLong failureSeenNanos = new AtomicLong();

  /** A client of catalog work ({@link Priority#BULK}). */
  public ModelClient(Config config, Tracing tracing) {
    this(config, tracing, Priority.BULK);
  }

  public ModelClient(Config config, Tracing tracing, Priority priority) {
    this(config, tracing, null, priority);
  }

  /** With a name of its own on health checks, for a service with two clients of one server. */
  public ModelClient(Config config, Tracing tracing, Priority priority, String name) {
    this(config, tracing, null, priority, name);
  }

  /** {@code channelBuilder} lets tests use an in-process transport; null means Netty over TCP. */
  ModelClient(Config config, Tracing tracing, Function<String, ManagedChannelBuilder<?>> channelBuilder) {
    this(config, tracing, channelBuilder, Priority.BULK);
  }

  ModelClient(Config config, Tracing tracing, Function<String, ManagedChannelBuilder<?>> channelBuilder,
      Priority priority) {
    this(config, tracing, channelBuilder, priority, "model-client");
  }

  private ModelClient(Config config, Tracing tracing, Function<String, ManagedChannelBuilder<?>> channelBuilder,
      Priority priority, String name) {
    this.name = name;
    this.priority = priority == Priority.INTERACTIVE ? interactiveHeader() : null;
    this.target = config.get(ModelClientSettings.TARGET);
    this.model = config.get(ModelClientSettings.MODEL);
    this.input = config.get(ModelClientSettings.INPUT);
    this.variant = new VectorVariant(config.get(ModelClientSettings.SIGNATURE), config.get(ModelClientSettings.OUTPUT),
        config.get(ModelClientSettings.IMAGE_SIZE), config.get(ModelClientSettings.SEND_SMALL_AS_IS));
    this.deadline = config.get(ModelClientSettings.DEADLINE);
    this.maxMessageBytes = config.get(ModelClientSettings.MAX_MESSAGE_BYTES);
    this.tracing = tracing;
    this.channelBuilder = channelBuilder;
    this.tls = tlsCredentials(config.get(ModelClientSettings.TLS), config.get(ModelClientSettings.TLS_CA_FILE));
  }

  private static io.grpc.ClientInterceptor interactiveHeader() {
    io.grpc.Metadata headers = new io.grpc.Metadata();
    headers.put(io.grpc.Metadata.Key.of(PRIORITY_HEADER, io.grpc.Metadata.ASCII_STRING_MARSHALLER), INTERACTIVE);
    return io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(headers);
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

  /** How long after a failure check() asks the server itself whether it is back. */
  static final Duration PROBE_AFTER_FAILURE = Duration.ofSeconds(5);
  /** Within a readiness probe's own timeout. */
  private static final Duration PROBE_DEADLINE = Duration.ofSeconds(2);
  /**
   * The channel's receive window, fixed: gRPC's automatic window tuning answers every answer's data
   * with a PING exchange, two more wake-ups per call on cores the model is using (RATIONALE.md).
   * 4 MiB is several times the largest answer, and a fraction of a millisecond on a LAN.
   */
  static final int FLOW_CONTROL_WINDOW_BYTES = 4 << 20;

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

  @Override
  public String name() {
    return name;
  }

  @Override
  public void start() {
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

  public int imageSize() {
    return variant.imageSize();
  }

  /** Embeds the images in one call with the latest served version; vectors keep input order. */
  public Embeddings embed(List<BufferedImage> images) throws ModelUnavailableException, ModelRejectedException {
    return embed(images, ModelSpec.newBuilder().setName(model).setSignatureName(variant.signature()).build(), variant);
  }

  /**
   * Same, pinned to one model version, so a rollout never mixes versions in one stream.
   *
   * @throws ModelVersionNotServedException when the server does not serve that version
   */
  public Embeddings embed(List<BufferedImage> images, long version)
      throws ModelUnavailableException, ModelRejectedException {
    return embed(images, version, variant);
  }

  /**
   * Same, pinned to one model version and embedded as {@code as} says (its signature, output and
   * image shaping) instead of this client's configuration: a query must be embedded the way the
   * index it searches was built, also while another variant rolls out.
   */
  public Embeddings embed(List<BufferedImage> images, long version, VectorVariant as)
      throws ModelUnavailableException, ModelRejectedException {
    return embed(images, ModelSpec.newBuilder().setName(model).setSignatureName(as.signature())
        .setVersion(Int64Value.of(version)).build(), as);
  }

  /** The signature this client calls. */
  public String signature() {
    return variant.signature();
  }

  /**
   * What decides an image's vector besides the model and its version: the signature and output
   * called, and how images are shaped before they are sent. Vectors stored under one variant are
   * not valid for another.
   */
  public String vectorVariant() {
    return variant.name();
  }

  /** The variant this client embeds with unless a call names another. */
  public VectorVariant variant() {
    return variant;
  }

  public String modelName() {
    return model;
  }

  /**
   * One Predict call per tensor shape (usually exactly one). After the first answer the remaining
   * calls are pinned to the version that gave it, so one result never mixes model versions.
   */
  private Embeddings embed(List<BufferedImage> images, ModelSpec spec, VectorVariant as)
      throws ModelUnavailableException, ModelRejectedException {
    if (images.isEmpty()) {
      return new Embeddings(new float[0][], model, 0, as.signature());
    }
    Map<ImageTensors.Shape, List<Integer>> byShape = new LinkedHashMap<>();
    for (int i = 0; i < images.size(); i++) {
      byShape.computeIfAbsent(ImageTensors.shapeFor(images.get(i), as.imageSize(), as.sendSmallAsIs()), s -> new ArrayList<>())
          .add(i);
    }
    float[][] vectors = new float[images.size()][];
    String answeredModel = null;
    long answeredVersion = 0;
    for (Map.Entry<ImageTensors.Shape, List<Integer>> group : byShape.entrySet()) {
      List<BufferedImage> members = group.getValue().stream().map(images::get).toList();
      ModelSpec callSpec = answeredModel == null ? spec
          : spec.toBuilder().setVersion(Int64Value.of(answeredVersion)).build();
      PredictResponse response = predict(callSpec, ImageTensors.toTensor(members, group.getKey()), as.output());
      float[][] part = ImageTensors.fromTensor(response.getOutputsOrThrow(as.output()), members.size());
      for (int j = 0; j < part.length; j++) {
        vectors[group.getValue().get(j)] = part[j];
      }
      answeredModel = response.getModelSpec().getName().isEmpty() ? model : response.getModelSpec().getName();
      answeredVersion = response.getModelSpec().getVersion().getValue();
    }
    return new Embeddings(vectors, answeredModel, answeredVersion, as.signature());
  }

  private PredictResponse predict(ModelSpec spec, TensorProto images, String output)
      throws ModelUnavailableException, ModelRejectedException {
    PredictRequest request = PredictRequest.newBuilder()
        .setModelSpec(spec)
        .putInputs(input, images)
        .addOutputFilter(output)
        .build();
    PredictResponse response;
    try {
      PredictionServiceGrpc.PredictionServiceBlockingStub stub = PredictionServiceGrpc.newBlockingStub(channel())
          .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
          .withMaxInboundMessageSize(maxMessageBytes)
          .withMaxOutboundMessageSize(maxMessageBytes);
      response = (priority == null ? stub : stub.withInterceptors(priority)).predict(request);
    } catch (StatusRuntimeException e) {
      Context caller = Context.current();
      // The call's own deadline timer may fire before the one that cancels the context, for the
      // same instant: an expired context deadline is the caller's too.
      if (caller.isCancelled() || (caller.getDeadline() != null && caller.getDeadline().isExpired())) {
        // The caller stopped waiting (the deadline or cancellation of the request it serves, which
        // the stub inherits): nothing about the model server, so check() stays as it is; counted
        // as a failure, a storefront with short deadlines made every search-api replica unready.
        throw new ModelUnavailableException("the caller stopped waiting: " + e.getStatus(), e);
      }
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND && spec.hasVersion()) {
        // An answer about the version, not a server failure: left out of check(), or one tenant
        // whose index still names a retired version would make every caller's instance unready.
        throw new ModelVersionNotServedException(spec.getVersion().getValue(), "model " + spec.getName()
            + " version " + spec.getVersion().getValue() + " is not served by " + target + ": "
            + e.getStatus().getDescription(), e);
      }
      throw classify(e);
    }
    lastError = null;
    if (!response.containsOutputs(output)) {
      throw new ModelRejectedException("model " + model + " answered without output '" + output + "'", null);
    }
    return response;
  }

  /**
   * The version the server answers requests that name none with, as its GetModelMetadata says:
   * the newest it serves, or the default an operator chose to roll back to while newer versions
   * still answer the requests that name them. Empty when the server does not know the model.
   */
  public OptionalLong servedVersion() throws ModelUnavailableException {
    try (Scope ignored = Untraced.unlessInTrace()) {
      return servedVersionTraced();
    }
  }

  private OptionalLong servedVersionTraced() throws ModelUnavailableException {
    return answered(() -> {
      GetModelMetadataResponse r = PredictionServiceGrpc.newBlockingStub(channel())
          .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
          .getModelMetadata(GetModelMetadataRequest.newBuilder().setModelSpec(ModelSpec.newBuilder().setName(model))
              .addMetadataField("signature_def").build());
      return r.getModelSpec().hasVersion() ? OptionalLong.of(r.getModelSpec().getVersion().getValue())
          : OptionalLong.empty();
    }, OptionalLong.empty());
  }

  /**
   * Asks the server how the model is: a remembered failure clears only when some version is
   * AVAILABLE. A server still loading (or failing to load) its model answers too, and a service
   * made ready by that answer would be sent queries that all fail, again and again.
   */
  private void probe(Duration callDeadline) throws ModelUnavailableException {
    GetModelStatusResponse status;
    try (Scope ignored = Untraced.unlessInTrace()) {
      status = answered(() -> ModelServiceGrpc.newBlockingStub(channel())
          .withDeadlineAfter(callDeadline.toMillis(), TimeUnit.MILLISECONDS)
          .getModelStatus(GetModelStatusRequest.newBuilder().setModelSpec(ModelSpec.newBuilder().setName(model))
              .build()), null);
    }
    String missing = status == null ? "the model server does not know model '" + model + "'" : unavailability(status);
    if (missing == null) {
      missing = signatureMissing(callDeadline);
    }
    if (missing != null) {
      lastError = missing;
      failureSeenNanos.set(System.nanoTime());
    }
  }

  /**
   * Null when the served version has the configured signature, or the server does not list its
   * signatures; else what is missing. A version AVAILABLE alone cleared a FAILED_PRECONDITION for a
   * signature the model lacks, and the service went ready, was sent queries that all failed, went
   * unready, and so on every few seconds.
   */
  private String signatureMissing(Duration callDeadline) throws ModelUnavailableException {
    GetModelMetadataResponse metadata;
    try (Scope ignored = Untraced.unlessInTrace()) {
      metadata = answered(() -> PredictionServiceGrpc.newBlockingStub(channel())
          .withDeadlineAfter(callDeadline.toMillis(), TimeUnit.MILLISECONDS)
          .getModelMetadata(GetModelMetadataRequest.newBuilder().setModelSpec(ModelSpec.newBuilder().setName(model))
              .addMetadataField("signature_def").build()), null);
    }
    com.google.protobuf.Any listed = metadata == null ? null : metadata.getMetadataMap().get("signature_def");
    if (listed == null) {
      return null;
    }
    try {
      SignatureDefMap signatures = listed.unpack(SignatureDefMap.class);
      return signatures.containsSignatureDef(variant.signature()) ? null : "model '" + model + "' has no signature '"
          + variant.signature() + "' (it has " + String.join(", ", signatures.getSignatureDefMap().keySet()) + ")";
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      return null; // not a list we can read: the next Predict says what is wrong
    }
  }

  /** Null when a version of the model is AVAILABLE; else what the server says of each. */
  private String unavailability(GetModelStatusResponse status) {
    List<String> states = new ArrayList<>();
    for (ModelVersionStatus v : status.getModelVersionStatusList()) {
      if (v.getState() == ModelVersionStatus.State.AVAILABLE) {
        return null;
      }
      String error = v.getStatus().getErrorMessage();
      states.add(v.getVersion() + " " + v.getState() + (error.isEmpty() ? "" : " (" + error + ")"));
    }
    return "no version of model '" + model + "' is AVAILABLE" + (states.isEmpty() ? "" : ": " + String.join(", ", states));
  }

  /**
   * A call about the model rather than with it: the server answering clears a failure remembered
   * from an earlier call, as does NOT_FOUND (the server is up, the model unknown), which gives
   * {@code unknownModel}; any other failure is the server being unavailable.
   */
  private <T> T answered(Supplier<T> call, T unknownModel) throws ModelUnavailableException {
    try {
      T answer = call.get();
      lastError = null;
      return answer;
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        lastError = null;
        return unknownModel;
      }
      try {
        throw classify(e);
      } catch (ModelRejectedException rejected) {
        throw new ModelUnavailableException(rejected.getMessage(), e);
      }
    }
  }

  private ModelUnavailableException unavailable(StatusRuntimeException e) {
    lastError = e.getStatus().getCode() + ": " + e.getStatus().getDescription();
    failureSeenNanos.set(System.nanoTime());
    return new ModelUnavailableException("model server " + target + " unavailable: " + lastError, e);
  }

  private ModelUnavailableException classify(StatusRuntimeException e) throws ModelRejectedException {
    switch (e.getStatus().getCode()) {
      case INVALID_ARGUMENT, OUT_OF_RANGE ->
          throw new ModelRejectedException("model server refused the input: " + e.getStatus().getDescription(), e);
      default -> {
        // UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, NOT_FOUND of the latest version while
        // a model loads (a pinned version's NOT_FOUND is ModelVersionNotServedException), and
        // FAILED_PRECONDITION: TensorFlow Serving's answer to a signature the model lacks, a
        // deployment's mistake that no input causes. Dead-lettering the input for it would drop
        // every image of a catalog; waiting shows it in check() until the configuration is fixed.
        return unavailable(e);
      }
    }
  }

  private ManagedChannel channel() {
    ManagedChannel ch = channel;
    if (ch == null) {
      throw new IllegalStateException("model client not started");
    }
    return ch;
  }

  @Override
  public CheckResult check() {
    ManagedChannel ch = channel;
    if (ch == null) {
      return CheckResult.failed("not started");
    }
    ConnectivityState state = ch.getState(false);
    if (state == ConnectivityState.SHUTDOWN) {
      return CheckResult.failed("channel shut down");
    }
    String err = lastError;
    long seen = failureSeenNanos.get();
    if (err != null && System.nanoTime() - seen > PROBE_AFTER_FAILURE.toNanos()
        && failureSeenNanos.compareAndSet(seen, System.nanoTime())) {
      // Only a call clears a failure, and a service that is unready because of it (search-api) is
      // sent no calls: without this probe it stayed unready after the model server came back.
      try {
        probe(PROBE_DEADLINE);
      } catch (ModelUnavailableException stillDown) {
        // lastError says why
      }
      err = lastError;
    }
    return err == null ? CheckResult.OK : CheckResult.failed("last call failed: " + err);
  }

  @Override
  public void close() {
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
