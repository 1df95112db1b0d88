package io.visualsearch.modelclient;

import com.google.protobuf.Int64Value;
import io.grpc.Context;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.opentelemetry.context.Scope;
import io.visualsearch.config.Config;
import io.visualsearch.proto.tfserving.GetModelMetadataResponse;
import io.visualsearch.proto.tfserving.ModelSpec;
import io.visualsearch.proto.tfserving.PredictRequest;
import io.visualsearch.proto.tfserving.PredictResponse;
import io.visualsearch.proto.tfserving.PredictionServiceGrpc;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import io.visualsearch.tracing.Tracing;
import io.visualsearch.tracing.Untraced;
import org.tensorflow.proto.TensorProto;
import java.awt.image.BufferedImage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A client of any TensorFlow-Serving-compatible model server (ours, or TensorFlow Serving
 * itself). Every call has a deadline; only UNAVAILABLE is retried by the channel, per the retry
 * policy in {@link ModelChannel#serviceConfig()}, because retrying anything else either cannot help
 * or may double the work. The channel is {@link ModelChannel}'s, and what check() says
 * {@link ModelHealth}'s; this class embeds images and asks which version is served.
 *
 * <p>Threads: any number of threads may embed at once (consumer threads, gRPC handler threads);
 * start() and close() run once each, on the threads that start and stop the service.
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
  private final String name;
  /** The priority header's interceptor, or null for bulk calls (no header). */
  private final io.grpc.ClientInterceptor priority;
  private final ModelChannel channel;
  private final ModelHealth health;

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
    this.channel = new ModelChannel(target, maxMessageBytes, tracing, channelBuilder,
        config.get(ModelClientSettings.TLS), config.get(ModelClientSettings.TLS_CA_FILE));
    this.health = new ModelHealth(channel, target, model, variant.signature(),
        config.get(ModelClientSettings.PROBE_AFTER_FAILURE));
  }

  private static io.grpc.ClientInterceptor interactiveHeader() {
    io.grpc.Metadata headers = new io.grpc.Metadata();
    headers.put(io.grpc.Metadata.Key.of(PRIORITY_HEADER, io.grpc.Metadata.ASCII_STRING_MARSHALLER), INTERACTIVE);
    return io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(headers);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void start() {
    channel.start();
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
    return embed(images, model, version, as);
  }

  /**
   * Same, of the model named {@code modelName} rather than this client's MODEL_NAME: an index
   * built from another model (a deployment moving to it re-embeds each catalog, and each tenant's
   * index follows once covered) is searched with vectors of its own model, whatever this client's
   * configuration says meanwhile.
   */
  public Embeddings embed(List<BufferedImage> images, String modelName, long version, VectorVariant as)
      throws ModelUnavailableException, ModelRejectedException {
    return embed(images, ModelSpec.newBuilder().setName(modelName).setSignatureName(as.signature())
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
      return new Embeddings(new float[0][], spec.getName(), 0, as.signature());
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
      answeredModel = response.getModelSpec().getName().isEmpty() ? spec.getName() : response.getModelSpec().getName();
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
      PredictionServiceGrpc.PredictionServiceBlockingStub stub = PredictionServiceGrpc.newBlockingStub(channel.get())
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
        throw new CallerGoneException("the caller stopped waiting: " + e.getStatus(), e);
      }
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND && spec.hasVersion()) {
        // An answer about the version, not a server failure: left out of check(), or one tenant
        // whose index still names a retired version would make every caller's instance unready.
        throw new ModelVersionNotServedException(spec.getVersion().getValue(), "model " + spec.getName()
            + " version " + spec.getVersion().getValue() + " is not served by " + target + ": "
            + e.getStatus().getDescription(), e);
      }
      throw health.classify(e);
    }
    health.callSucceeded();
    if (!response.containsOutputs(output)) {
      throw new ModelRejectedException("model " + spec.getName() + " answered without output '" + output + "'", null);
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
    return health.answered(() -> {
      GetModelMetadataResponse r = ModelMetadata.get(channel.get(), model, deadline);
      return r.getModelSpec().hasVersion() ? OptionalLong.of(r.getModelSpec().getVersion().getValue())
          : OptionalLong.empty();
    }, OptionalLong.empty());
  }

  @Override
  public CheckResult check() {
    return health.check();
  }

  @Override
  public void close() {
    channel.close();
  }
}
