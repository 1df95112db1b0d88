package io.visualsearch.cluster;

import io.visualsearch.stack.PortAllocator;
import io.visualsearch.stack.StackEndpoints;
import io.visualsearch.topics.TopicInitializer;
import io.visualsearch.topics.Topics;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * The production topology on one machine: the broker, the S3-compatible store and Zipkin as
 * their own processes ({@code StackProcessMain}), then every service as its own JVM with its own
 * ops port and instance id — two instances each of embeddings-generator and image-indexer in one
 * consumer group (the group id defaults to the service name, so they share it as replicas of a
 * Deployment would). Stops intake first, infrastructure last.
 */
public final class Cluster implements AutoCloseable {

  /** Services in start order: downstream first, intake last. Scaled ones get {@code scaledInstances}. */
  static final List<String> SERVICES = List.of("model-server", "response-consumer", "search-api", "index-builder",
      "embeddings-generator", "image-indexer", "catalog-downloader");
  static final List<String> SCALED = List.of("embeddings-generator", "image-indexer");
  static final Map<String, String> MAINS = Map.of(
      "model-server", "io.visualsearch.modelserver.ModelServerMain",
      "response-consumer", "io.visualsearch.responseconsumer.ResponseConsumerMain",
      "search-api", "io.visualsearch.searchapi.SearchApiMain",
      "index-builder", "io.visualsearch.indexbuilder.IndexBuilderMain",
      "embeddings-generator", "io.visualsearch.embeddings.EmbeddingsGeneratorMain",
      "image-indexer", "io.visualsearch.imageindexer.ImageIndexerMain",
      "catalog-downloader", "io.visualsearch.catalogdownloader.CatalogDownloaderMain");
  private static final String STACK_MAIN = "io.visualsearch.stack.StackProcessMain";
  private static final Duration START_TIMEOUT = Duration.ofMinutes(4);

  private final RepoLayout repo;
  private final ClusterPlan plan;
  private final PortAllocator ports;
  private final Path logs;
  private final Path scratch;
  private final int kafkaPort;
  private final int controllerPort;
  private final int s3Port;
  private final int zipkinPort;
  private final StackEndpoints stack;
  private final int searchHttpPort;
  private final int modelGrpcPort;
  private final Map<String, ManagedProcess> members = new LinkedHashMap<>();
  private final Map<String, Integer> opsPorts = new LinkedHashMap<>();

  public Cluster(RepoLayout repo, ClusterPlan plan) {
    this.repo = repo;
    this.plan = plan;
    this.ports = new PortAllocator(plan.host(), plan.basePort());
    this.logs = plan.dataDir().resolve("logs");
    this.scratch = plan.dataDir().resolve("tmp");
    this.kafkaPort = ports.next();
    this.controllerPort = ports.next();
    this.s3Port = ports.next();
    this.zipkinPort = ports.next();
    this.searchHttpPort = ports.next();
    int searchGrpc = ports.next();
    this.modelGrpcPort = ports.next();
    int modelRest = ports.next();
    this.stack = StackEndpoints.onPorts(plan.host(), kafkaPort, s3Port, ClusterPlan.BUCKET, zipkinPort);
    String stackCp = repo.classpath("cluster");
    addStack("kafka", stackCp, null, 0);
    addStack("s3", stackCp, URI.create(s3Endpoint() + "/"), 500);
    if (plan.zipkin()) {
      addStack("zipkin", stackCp, URI.create(stack.zipkinBaseUrl() + "/health"), 300);
    }
    for (String service : SERVICES) {
      int instances = SCALED.contains(service) ? plan.scaledInstances() : 1;
      for (int i = 1; i <= instances; i++) {
        Map<String, String> env = serviceEnv();
        switch (service) {
          case "model-server" -> {
            env.put("MODEL_SERVER_BASE_PATH", repo.modelBasePath().toString());
            env.put("MODEL_SERVER_GRPC_PORT", Integer.toString(modelGrpcPort));
            env.put("MODEL_SERVER_REST_PORT", Integer.toString(modelRest));
          }
          case "search-api" -> {
            env.put("SEARCH_HTTP_PORT", Integer.toString(searchHttpPort));
            env.put("SEARCH_GRPC_PORT", Integer.toString(searchGrpc));
            env.put("SEARCH_API_KEYS", plan.searchApiKeys());
          }
          case "image-indexer" -> env.put("IMAGE_FETCH_ALLOW", plan.host() + "/32");
          case "catalog-downloader" -> {
            env.put("CATALOG_SOURCES", plan.catalogSources());
            // where ClusterSession writes the sample feeds; no other file is a feed
            env.put("CATALOG_FILE_FEED_ROOT", plan.dataDir().resolve("feeds").toAbsolutePath().normalize().toString());
            env.put("CATALOG_SYNC_INTERVAL", plan.catalogSyncInterval().toSeconds() + "s");
          }
          default -> { }
        }
        addService(service, i, env);
      }
    }
  }

  private void addStack(String part, String classpath, URI ready, int readyBelow) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("STACK_HOST", plan.host());
    env.put("STACK_KAFKA_PORT", Integer.toString(kafkaPort));
    env.put("STACK_KAFKA_CONTROLLER_PORT", Integer.toString(controllerPort));
    env.put("STACK_S3_PORT", Integer.toString(s3Port));
    env.put("STACK_ZIPKIN_PORT", Integer.toString(zipkinPort));
    env.put("STACK_DATA_DIR", plan.dataDir().resolve("stack").toString());
    env.put("STACK_BUCKET", ClusterPlan.BUCKET);
    List<String> jvm = part.equals("kafka") ? List.of("-Xmx384m", "-XX:+UseSerialGC") : List.of("-Xmx48m", "-XX:+UseSerialGC");
    ProcessSpec spec = new ProcessSpec(part, "cluster", STACK_MAIN, jvm, List.of(part), env, ready, readyBelow);
    members.put(part, new ManagedProcess(spec, classpath, logs.resolve(part + ".log"), scratch.resolve(part)));
  }

  private void addService(String service, int instance, Map<String, String> env) {
    String name = service + "-" + instance;
    int ops = ports.next();
    opsPorts.put(name, ops);
    env.put("OPS_PORT", Integer.toString(ops));
    env.put("SERVICE_INSTANCE_ID", name);
    String heap = switch (service) {
      case "model-server" -> "-Xmx1g";
      case "search-api", "index-builder" -> "-Xmx512m";
      default -> "-Xmx320m";
    };
    ProcessSpec spec = new ProcessSpec(name, service, MAINS.get(service), List.of(heap, "-XX:+UseSerialGC"), List.of(), env, URI.create("http://" + plan.host() + ":" + ops + "/readyz"), 300);
    members.put(name, new ManagedProcess(spec, repo.classpath(service), logs.resolve(name + ".log"),
        scratch.resolve(name)));
  }

  /**
   * What every service member gets: the stack's service environment (the same list the embedded
   * stack gives its services, {@code HEALTH_ZIPKIN_UI} included), the model server, then the plan's
   * extra settings over them.
   */
  private Map<String, String> serviceEnv() {
    Map<String, String> env = stack.serviceEnvironment();
    if (!plan.zipkin()) {
      // No Zipkin member: no spans sent. HEALTH_ZIPKIN_UI still names this cluster's Zipkin port,
      // so the health page's trace links lead nowhere rather than to another deployment's Zipkin
      // on the default :9411 (a demo's).
      env.put("ZIPKIN_ENDPOINT", "none");
    }
    env.put("MODEL_SERVER_TARGET", modelTarget());
    env.putAll(plan.extraEnv());
    return env;
  }

  /** Starts the infrastructure, creates the topics, then every service; waits for each to be ready. */
  public void start() throws IOException, InterruptedException {
    List<ManagedProcess> infra = members.values().stream().filter(m -> m.spec().module().equals("cluster")).toList();
    for (ManagedProcess m : infra) {
      m.start();
    }
    awaitBroker(START_TIMEOUT);
    ensureTopics();
    for (ManagedProcess m : infra) {
      m.awaitReady(START_TIMEOUT);
    }
    // The model server first: a consumer that probes it before it listens reports not-ready until
    // its next successful call. Then all but the intake together (2 cores: JVM start-up
    // dominates, so parallel starts save minutes); the intake last, when every hop listens.
    List<ManagedProcess> services = serviceMembers();
    List<ManagedProcess> model = services.stream().filter(m -> m.name().startsWith("model-server")).toList();
    List<ManagedProcess> intake = services.stream().filter(m -> m.name().startsWith("catalog-downloader")).toList();
    List<ManagedProcess> middle = services.stream().filter(m -> !model.contains(m) && !intake.contains(m)).toList();
    for (ManagedProcess m : model) {
      m.start();
      m.awaitReady(START_TIMEOUT);
    }
    for (ManagedProcess m : middle) {
      m.start();
    }
    // Live, not ready: a consumer whose first model probe timed out on a busy machine reports
    // not-ready until its next successful call, which needs work — i.e. the intake running.
    for (ManagedProcess m : middle) {
      m.awaitLive(START_TIMEOUT);
    }
    for (ManagedProcess m : intake) {
      m.start();
    }
    for (ManagedProcess m : services) {
      m.awaitReady(START_TIMEOUT);
    }
  }

  /** The broker is ready when an admin client can list topics (the port opens earlier). */
  public void awaitBroker(Duration timeout) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    ManagedProcess kafka = members.get("kafka");
    while (System.nanoTime() < deadline) {
      if (!kafka.alive()) {
        throw new IOException("kafka exited with " + kafka.exitCode() + "; see " + kafka.logFile());
      }
      try (Admin admin = admin()) {
        admin.listTopics().names().get(3, TimeUnit.SECONDS);
        return;
      } catch (Exception notYet) {
        Thread.sleep(300);
      }
    }
    throw new IOException("kafka not ready within " + timeout + "; see " + kafka.logFile());
  }

  private void ensureTopics() throws IOException {
    try (Admin admin = admin()) {
      new TopicInitializer(admin, 3, (short) 1).ensure(Topics.all());
    } catch (Exception e) {
      throw new IOException("cannot create topics: " + e, e);
    }
  }

  private Admin admin() {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafkaBootstrap());
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
    return Admin.create(p);
  }

  /** How long a restarted service is given, once live, to answer ready. */
  static final Duration RESTART_READY = Duration.ofMinutes(2);

  /**
   * Restarts a member after a kill or stop and waits until it is ready again. False when a
   * restarted service is live but not ready within {@link #RESTART_READY} (the caller reports it;
   * the scenario's end judges it); throws when it died or never came up at all.
   */
  public boolean restart(String name) throws IOException, InterruptedException {
    ManagedProcess m = member(name);
    m.start();
    if (name.equals("kafka")) {
      awaitBroker(START_TIMEOUT);
      return true;
    } else if (m.spec().readyUrl() != null && !m.spec().module().equals("cluster")) {
      return awaitRestarted(m, START_TIMEOUT, RESTART_READY);
    } else {
      m.awaitReady(START_TIMEOUT);
      return true;
    }
  }

  /** Live within {@code live}, then ready within {@code ready}: true, or false when only live. */
  static boolean awaitRestarted(ManagedProcess m, Duration live, Duration ready) throws IOException, InterruptedException {
    m.awaitLive(live);
    try {
      m.awaitReady(ready);
      return true;
    } catch (IOException notReady) {
      if (!m.alive()) {
        throw notReady; // it died after answering /healthz (e.g. a listener could not bind): not "slow"
      }
      System.out.println("cluster: " + m.name() + " live but not ready after " + ready + ": " + notReady.getMessage());
      return false;
    }
  }

  public ManagedProcess member(String name) {
    ManagedProcess m = members.get(name);
    if (m == null) {
      throw new IllegalArgumentException("no cluster member " + name + "; members: " + members.keySet());
    }
    return m;
  }

  public List<ManagedProcess> members() {
    return List.copyOf(members.values());
  }

  public List<ManagedProcess> serviceMembers() {
    return members.values().stream().filter(m -> !m.spec().module().equals("cluster")).toList();
  }

  public String kafkaBootstrap() {
    return stack.kafkaBootstrapServers();
  }

  public String s3Endpoint() {
    return stack.s3Endpoint();
  }

  public String modelTarget() {
    return plan.host() + ":" + modelGrpcPort;
  }

  public URI searchUrl() {
    return URI.create("http://" + plan.host() + ":" + searchHttpPort + "/");
  }

  public URI opsUrl(String member) {
    return URI.create("http://" + plan.host() + ":" + opsPorts.get(member) + "/");
  }

  public ClusterPlan plan() {
    return plan;
  }

  /** Settings a client of the object store and model server (the reconciler) needs. */
  public Map<String, String> clientEnv() {
    Map<String, String> env = serviceEnv();
    env.put("ZIPKIN_ENDPOINT", "none");
    return env;
  }

  /** SIGTERM in reverse start order: intake first, so nothing produces into a stopped hop; stack last. */
  @Override
  public void close() {
    List<ManagedProcess> order = new ArrayList<>(members.values());
    Collections.reverse(order);
    for (ManagedProcess m : order) {
      try {
        m.stop(Duration.ofSeconds(30));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
