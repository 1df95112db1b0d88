package io.visualsearch.pipeline;

import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigDef;
import io.visualsearch.runtime.Component;
import io.visualsearch.runtime.OpsServer;
import io.visualsearch.runtime.ReadinessReport;
import io.visualsearch.runtime.RuntimeSettings;
import io.visualsearch.runtime.ServiceHost;
import io.visualsearch.tracing.Tracing;
import io.visualsearch.tracing.TracingSettings;
import java.util.List;
import java.util.Map;

/**
 * The parts every pipeline service shares, wired in the order they must start: tracing, the ops
 * endpoint, the producer; then the service adds its own clients and finally its intake
 * ({@link #consume}); {@link #heartbeat()} comes last. The host closes them in reverse: intake
 * stops and drains first, the producer flushes after it, traces are flushed last.
 */
public final class PipelineService {

  private final String service;
  private final String instance;
  private final Config config;
  private final ServiceHost host;
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Activity activity;
  private final Tracing tracing;
  private final ProducerComponent producer;
  private final KafkaClients clients;
  private final OpsServer ops;

  /** Settings read by every pipeline service besides the runtime's own. */
  public static ConfigDef definition() {
    return new ConfigDef().include(KafkaSettings.definition()).include(TracingSettings.definition());
  }

  public PipelineService(String service, Config config, ServiceHost host) {
    this(service, config, host, Map.of());
  }

  /**
   * {@code producerDefaults}: producer properties this service needs other than the library's
   * (search-api sends each answer at once); the operator's {@code KAFKA_CLIENT_PROPERTIES} still win.
   */
  public PipelineService(String service, Config config, ServiceHost host, Map<String, String> producerDefaults) {
    this.service = service;
    this.config = config;
    this.host = host;
    String id = config.get(RuntimeSettings.INSTANCE_ID);
    this.instance = id == null ? RuntimeSettings.defaultInstanceId() : id;
    JvmMetrics.builder().register(registry);
    this.activity = new Activity(registry);
    this.tracing = host.add(Tracing.create(service, instance, config));
    SpanLossMetrics.register(registry, tracing.loss());
    this.ops = host.add(new OpsServer(config.get(RuntimeSettings.OPS_HOST), config.get(RuntimeSettings.OPS_PORT),
        registry, host::components));
    this.clients = new KafkaClients(config);
    this.producer = host.add(new ProducerComponent(() -> clients.producer(service + "-" + instance,
        producerDefaults)));
  }

  /** Adds the consumer loop for {@code topics}; call after the service's own clients are added. */
  public ConsumerLoop consume(List<String> topics, RecordHandler handler) {
    return consume(topics, handler, 1, clients.groupId(service));
  }

  /** A loop handling up to {@code concurrency} records at once, in its own consumer group. */
  public ConsumerLoop consume(List<String> topics, RecordHandler handler, int concurrency, String groupId) {
    return host.add(loop(topics, handler, concurrency, groupId));
  }

  /**
   * A loop handed one record a poll, for records that take minutes each (a job per record): a
   * batch is committed only once all of it is handled, so with many records a stop or a crash
   * would redo every finished job, and a long batch would outlast KAFKA_MAX_BATCH_TIME.
   */
  public ConsumerLoop consumeOneAtATime(List<String> topics, RecordHandler handler) {
    return host.add(loop(topics, handler, 1, clients.groupId(service), 1));
  }

  /** A loop not added to the host, for services that start and stop loops themselves. */
  public ConsumerLoop loop(List<String> topics, RecordHandler handler, int concurrency, String groupId) {
    return loop(topics, handler, concurrency, groupId, config.get(KafkaSettings.MAX_POLL_RECORDS));
  }

  private ConsumerLoop loop(List<String> topics, RecordHandler handler, int concurrency, String groupId,
      int maxPollRecords) {
    ConsumerLoop[] self = new ConsumerLoop[1];
    self[0] = new ConsumerLoop(service, topics,
        () -> clients.consumer(groupId, service + "-" + instance, maxPollRecords),
        producer::producer, handler, tracing, activity,
        config.get(KafkaSettings.RETRY_BACKOFF), config.get(KafkaSettings.RETRY_BACKOFF_MAX),
        error -> host.fail(self[0], error), concurrency)
        .maxBatchTime(config.get(KafkaSettings.MAX_BATCH_TIME))
        .drainWithin(config.get(RuntimeSettings.SHUTDOWN_TIMEOUT),
            () -> host.stopTimeLeft(config.get(RuntimeSettings.SHUTDOWN_TIMEOUT)))
        .onDrainCutShort(why -> host.drainCutShort(self[0], why));
    return self[0];
  }

  /** Adds the heartbeat to service.health; call last so it reports the whole service. */
  public HeartbeatPublisher heartbeat() {
    return host.add(new HeartbeatPublisher(service, instance, activity, producer::producer,
        config.get(KafkaSettings.HEARTBEAT_INTERVAL), () -> ReadinessReport.of(host.components()),
        host::failed));
  }

  public <C extends Component> C add(C component) {
    return host.add(component);
  }

  public String service() {
    return service;
  }

  public String instance() {
    return instance;
  }

  public Config config() {
    return config;
  }

  public ServiceHost host() {
    return host;
  }

  public PrometheusRegistry registry() {
    return registry;
  }

  public Activity activity() {
    return activity;
  }

  public Tracing tracing() {
    return tracing;
  }

  public ProducerComponent producer() {
    return producer;
  }

  public KafkaClients kafkaClients() {
    return clients;
  }

  public OpsServer ops() {
    return ops;
  }
}
