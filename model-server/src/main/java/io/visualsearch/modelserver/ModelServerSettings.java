package io.visualsearch.modelserver;

import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigDef;
import io.visualsearch.config.ConfigException;
import io.visualsearch.config.Setting;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.ConfigProto;

/**
 * Everything the model server reads from the environment ({@code MODEL_SERVER_*}), defined once.
 * Ports and the model name default to TensorFlow Serving's own defaults.
 */
public record ModelServerSettings(
    Path basePath,
    String modelName,
    String bindAddress,
    int grpcPort,
    int restPort,
    int maxInboundMessageBytes,
    int maxBatchSize,
    Duration batchTimeout,
    int batchThreads,
    boolean dispatchWhenIdle,
    int maxQueuedRequests,
    VersionPolicy versionPolicy,
    Duration pollInterval,
    int servedVersions,
    int intraOpThreads,
    int interOpThreads,
    long restBodyBudgetBytes,
    long grpcMessageBudgetBytes,
    long maxQueuedBytes) {

  public static final Setting<String> BASE_PATH = Setting.string("MODEL_SERVER_BASE_PATH")
      .doc("Directory holding <model name>/<integer version>/saved_model.pb.");
  public static final Setting<String> MODEL_NAME = Setting.string("MODEL_SERVER_MODEL_NAME").defaultValue("default")
      .validate(n -> n.matches("[A-Za-z0-9][A-Za-z0-9_.-]*"), "letters, digits, '_', '.', '-'")
      .doc("Served model name; also the sub-directory of the base path.");
  public static final Setting<String> BIND_ADDRESS = Setting.string("MODEL_SERVER_BIND_ADDRESS")
      .defaultValue("127.0.0.1").doc("Address both ports bind to; 0.0.0.0 in containers.");
  public static final Setting<Integer> GRPC_PORT = Setting.integer("MODEL_SERVER_GRPC_PORT").defaultValue(8500)
      .validate(Setting.port(), "a TCP port (0 picks a free one)").doc("gRPC port (PredictionService, ModelService).");
  public static final Setting<Integer> REST_PORT = Setting.integer("MODEL_SERVER_REST_PORT").defaultValue(8501)
      .validate(p -> p >= -1 && p <= 65535, "a TCP port, 0 for a free one, -1 to disable REST")
      .doc("REST port (TensorFlow Serving's /v1/models API).");
  public static final Setting<Integer> MAX_MESSAGE_BYTES = Setting.integer("MODEL_SERVER_MAX_MESSAGE_BYTES")
      .defaultValue(64 * 1024 * 1024).validate(n -> n >= 1024, "at least 1024")
      .doc("Largest gRPC request or REST body accepted, in bytes.");
  public static final Setting<Integer> MAX_BATCH_SIZE = Setting.integer("MODEL_SERVER_MAX_BATCH_SIZE")
      .defaultValue(32).validate(n -> n >= 1, "at least 1")
      .doc("Most rows merged into one TensorFlow run; 1 disables batching.");
  public static final Setting<Duration> BATCH_TIMEOUT = Setting.duration("MODEL_SERVER_BATCH_TIMEOUT")
      .defaultValue(Duration.ofMillis(2)).validate(d -> !d.isNegative(), "not negative")
      .doc("Longest a request waits for others to share its batch.");
  public static final Setting<Integer> BATCH_THREADS = Setting.integer("MODEL_SERVER_BATCH_THREADS")
      .defaultValue(Math.max(1, Runtime.getRuntime().availableProcessors()))
      .describeDefault("number of cores")
      .validate(n -> n >= 1, "at least 1").doc("Batches run concurrently (TensorFlow itself also uses every core).");
  public static final Setting<Boolean> DISPATCH_WHEN_IDLE = Setting.bool("MODEL_SERVER_DISPATCH_WHEN_IDLE")
      .defaultValue(true)
      .doc("Run a request at once when no batch is executing instead of waiting out the batch timeout;"
          + " under load, requests still merge while a run executes. false always waits (TensorFlow Serving's behaviour).");
  public static final Setting<Integer> MAX_QUEUED_REQUESTS = Setting.integer("MODEL_SERVER_MAX_QUEUED_REQUESTS")
      .defaultValue(1024).validate(n -> n >= 1, "at least 1")
      .doc("Requests waiting for a batch beyond which new ones are refused with UNAVAILABLE; also the REST requests"
          + " that may wait for a handler thread, beyond which REST answers 503.");
  public static final Setting<Long> MAX_QUEUED_BYTES = Setting.longInt("MODEL_SERVER_MAX_QUEUED_BYTES")
      .defaultValue(Runtime.getRuntime().maxMemory() / 4).describeDefault("a quarter of the maximum heap")
      .validate(n -> n >= 1024 * 1024, "at least 1048576 (1 MiB)")
      .doc("Input bytes all requests waiting for a batch may hold together, beyond which new ones are refused with"
          + " UNAVAILABLE; a request larger than the whole budget still runs when nothing else waits.");
  public static final Setting<Long> PINNED_VERSION = Setting.longInt("MODEL_SERVER_MODEL_VERSION").optional()
      .validate(v -> v >= 1, "a version number (>= 1; version 0 is never served)")
      .doc("Serve exactly this version; unset serves the latest.");
  public static final Setting<Long> DEFAULT_VERSION = Setting.longInt("MODEL_SERVER_DEFAULT_VERSION").optional()
      .validate(v -> v >= 1, "a version number (>= 1; version 0 is never served)")
      .doc("Answer requests that name no version with this one instead of the newest, while the newest others on"
          + " disk (MODEL_SERVER_SERVED_VERSIONS in all) still answer requests naming theirs: a rollback that keeps"
          + " serving the indexes of the withdrawn version until they are rebuilt. Not with MODEL_SERVER_MODEL_VERSION.");
  public static final Setting<Duration> POLL_INTERVAL = Setting.duration("MODEL_SERVER_POLL_INTERVAL")
      .defaultValue(Duration.ofSeconds(1)).validate(d -> d.toMillis() >= 10, "at least 10ms")
      .doc("How often the base path is scanned for new versions.");

  public static final Setting<Integer> SERVED_VERSIONS = Setting.integer("MODEL_SERVER_SERVED_VERSIONS")
      .defaultValue(2).validate(n -> n >= 1, "at least 1")
      .doc("How many of the newest versions on disk are served, at start too (a request may name any of them); the"
          + " default 2 keeps the previous version answering while the pipeline rebuilds indexes for a new one.");

  public static final Setting<Integer> INTRA_OP_THREADS = Setting.integer("MODEL_SERVER_INTRA_OP_THREADS")
      .defaultValue(0).validate(n -> n >= 0, "0 (TensorFlow's choice: every core) or more")
      .doc("Threads one TensorFlow operation is split over (TensorFlow Serving's"
          + " --tensorflow_intra_op_parallelism). Set it to the container's CPU limit: TensorFlow sizes its pools by"
          + " the host's cores. See model-server/RATIONALE.md for 1 with several batch threads.");
  public static final Setting<Integer> INTER_OP_THREADS = Setting.integer("MODEL_SERVER_INTER_OP_THREADS")
      .defaultValue(0).validate(n -> n >= 0, "0 (TensorFlow's choice: every core) or more")
      .doc("Threads independent TensorFlow operations run on (--tensorflow_inter_op_parallelism).");

  public static final Setting<Long> REST_BODY_BUDGET_BYTES = Setting.longInt("MODEL_SERVER_REST_BODY_BUDGET_BYTES")
      .defaultValue(Runtime.getRuntime().maxMemory() / 4).describeDefault("a quarter of the maximum heap")
      .validate(n -> n >= 1024 * 1024, "at least 1048576 (1 MiB)")
      .doc("Heap all REST request bodies being read and decoded may hold together, estimated at 16 times their size"
          + " (the JSON tree); a request beyond it is answered 503 at once. One body larger than the whole budget runs"
          + " only while no other is in flight. gRPC has its own (MODEL_SERVER_GRPC_MESSAGE_BUDGET_BYTES).");
  public static final Setting<Long> GRPC_MESSAGE_BUDGET_BYTES = Setting.longInt("MODEL_SERVER_GRPC_MESSAGE_BUDGET_BYTES")
      .defaultValue(Runtime.getRuntime().maxMemory() / 4).describeDefault("a quarter of the maximum heap")
      .validate(n -> n >= 1024 * 1024, "at least 1048576 (1 MiB)")
      .doc("Heap all gRPC requests being received and decoded may hold together, estimated at 3 times their size;"
          + " a message beyond it is cut off with UNAVAILABLE as it arrives. One message larger than the whole budget"
          + " is read only while no other is.");

  public ModelServerSettings {
    if (servedVersions < 1) {
      throw new IllegalArgumentException("at least one version must be served");
    }
    if (maxBatchSize < 1 || maxQueuedRequests < 1 || batchThreads < 1) {
      throw new IllegalArgumentException("batch size, queue and threads must be positive");
    }
  }

  public static ConfigDef definition() {
    return new ConfigDef().define(BASE_PATH, MODEL_NAME, BIND_ADDRESS, GRPC_PORT, REST_PORT, MAX_MESSAGE_BYTES,
        MAX_BATCH_SIZE, BATCH_TIMEOUT, BATCH_THREADS, DISPATCH_WHEN_IDLE, MAX_QUEUED_REQUESTS, PINNED_VERSION,
        DEFAULT_VERSION, POLL_INTERVAL, SERVED_VERSIONS, INTRA_OP_THREADS, INTER_OP_THREADS, REST_BODY_BUDGET_BYTES,
        GRPC_MESSAGE_BUDGET_BYTES,
        MAX_QUEUED_BYTES);
  }

  public static ModelServerSettings from(Config c) {
    Long pinned = c.get(PINNED_VERSION);
    Long byDefault = c.get(DEFAULT_VERSION);
    if (pinned != null && byDefault != null) {
      throw new ConfigException(List.of(PINNED_VERSION.env() + " serves one version only and " + DEFAULT_VERSION.env()
          + " serves others beside its own: set one of them"));
    }
    VersionPolicy policy = pinned != null ? VersionPolicy.pinned(pinned)
        : byDefault != null ? VersionPolicy.byDefault(byDefault) : VersionPolicy.latest();
    return new ModelServerSettings(Path.of(c.get(BASE_PATH)), c.get(MODEL_NAME), c.get(BIND_ADDRESS),
        c.get(GRPC_PORT), c.get(REST_PORT), c.get(MAX_MESSAGE_BYTES), c.get(MAX_BATCH_SIZE), c.get(BATCH_TIMEOUT),
        c.get(BATCH_THREADS), c.get(DISPATCH_WHEN_IDLE), c.get(MAX_QUEUED_REQUESTS),
        policy, c.get(POLL_INTERVAL),
        c.get(SERVED_VERSIONS), c.get(INTRA_OP_THREADS), c.get(INTER_OP_THREADS), c.get(REST_BODY_BUDGET_BYTES),
        c.get(GRPC_MESSAGE_BUDGET_BYTES),
        c.get(MAX_QUEUED_BYTES));
  }

  /**
   * The configuration of a server on {@code basePath} with every other setting at its default, for
   * tests and embedding: {@link Config#with} changes one value, validated as the environment's would be.
   */
  public static Config defaultConfig(Path basePath) {
    return definition().parse(Map.of(BASE_PATH.env(), basePath.toString()));
  }

  public static ModelServerSettings defaults(Path basePath) {
    return from(defaultConfig(basePath));
  }

  /** The TensorFlow session options these settings ask for (0 leaves a pool's size to TensorFlow). */
  public ConfigProto sessionConfig() {
    return ConfigProto.newBuilder().setIntraOpParallelismThreads(intraOpThreads)
        .setInterOpParallelismThreads(interOpThreads).build();
  }
}
