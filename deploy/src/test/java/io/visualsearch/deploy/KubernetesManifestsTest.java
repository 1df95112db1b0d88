package io.visualsearch.deploy;

import static io.visualsearch.deploy.YamlFiles.at;
import static io.visualsearch.deploy.YamlFiles.list;
import static io.visualsearch.deploy.YamlFiles.map;
import static io.visualsearch.deploy.YamlFiles.str;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.config.Setting;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * deploy/k8s: parsed, and every workload's image, ports, probes and environment (env, envFrom
 * ConfigMaps and Secrets) checked against the service it runs.
 */
class KubernetesManifestsTest {

  private static final Path DIR = YamlFiles.DEPLOY.resolve("k8s");
  private static final Pattern OWN_IMAGE = Pattern.compile("visual-search/([a-z-]+):(.+)");

  /** kind -> name -> resource. */
  private static final Map<String, Map<String, Map<String, Object>>> resources = new LinkedHashMap<>();
  /** Workload name -> its container's resolved environment. */
  private static final Map<String, Workload> workloads = new LinkedHashMap<>();

  /** One container of a Deployment or Job, its service and where each variable comes from. */
  record Workload(String kind, String name, DeployedService service, Map<String, Object> container,
      Map<String, Object> podSpec, Map<String, String> env, Map<String, String> source, List<String> problems) {

    String where() {
      return kind + "/" + name;
    }
  }

  /** The Secrets an operator creates once; the kustomization must not apply them over the real ones. */
  static final String SECRETS_EXAMPLE = "secrets.example.yaml";

  @BeforeAll
  static void load() throws IOException {
    Map<String, Object> kustomization = YamlFiles.loadAll(DIR.resolve("kustomization.yaml")).get(0);
    List<Object> files = new ArrayList<>(list(kustomization.get("resources"), "resources"));
    files.add(SECRETS_EXAMPLE);
    for (Object file : files) {
      for (Map<String, Object> doc : YamlFiles.loadAll(DIR.resolve(String.valueOf(file)))) {
        String kind = str(doc.get("kind"));
        String name = str(at(doc, "metadata", "name"));
        assertNotNull(doc.get("apiVersion"), file + ": a resource without apiVersion");
        assertNotNull(kind, file + ": a resource without kind");
        assertNotNull(name, file + ": a " + kind + " without metadata.name");
        Object previous = resources.computeIfAbsent(kind, k -> new LinkedHashMap<>()).put(name, doc);
        assertTrue(previous == null, kind + "/" + name + " is defined twice");
      }
    }
    for (String kind : List.of("Deployment", "Job")) {
      resources.getOrDefault(kind, Map.of()).forEach((name, doc) -> workloads.put(name, workload(kind, name, doc)));
    }
  }

  private static Workload workload(String kind, String name, Map<String, Object> doc) {
    Map<String, Object> podSpec = map(at(doc, "spec", "template", "spec"), name + " pod spec");
    List<Object> containers = list(podSpec.get("containers"), name + ".containers");
    assertEquals(1, containers.size(), kind + "/" + name + ": one container per pod");
    Map<String, Object> c = map(containers.get(0), name + " container");
    Matcher m = OWN_IMAGE.matcher(str(c.get("image")));
    assertTrue(m.matches(), kind + "/" + name + ": image " + c.get("image") + " is not one of visual-search/<image>:<tag>");
    assertEquals(YamlFiles.VERSION, m.group(2), kind + "/" + name + ": image tag");
    DeployedService service = DeployedService.byImage(m.group(1))
        .orElseThrow(() -> new AssertionError(kind + "/" + name + ": unknown image " + m.group(1)));

    Map<String, String> env = new LinkedHashMap<>();
    Map<String, String> source = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    for (Object from : list(c.get("envFrom"), name + ".envFrom")) {
      String cm = str(at(from, "configMapRef", "name"));
      String secret = str(at(from, "secretRef", "name"));
      Map<String, String> values = cm != null ? configMap(cm) : secret != null ? secret(secret) : null;
      if (values == null) {
        problems.add(kind + "/" + name + ": envFrom " + from + " names no ConfigMap or Secret of the manifests");
        continue;
      }
      values.forEach((k, v) -> {
        if (env.containsKey(k) && !env.get(k).equals(v)) {
          problems.add(kind + "/" + name + ": " + k + " comes from two sources with different values");
        }
        env.put(k, v);
        source.put(k, cm != null ? "ConfigMap " + cm : "Secret " + secret);
      });
    }
    for (Object e : list(c.get("env"), name + ".env")) {
      String key = str(at(e, "name"));
      Object valueFrom = at(e, "valueFrom");
      if (valueFrom == null) {
        env.put(key, str(at(e, "value")) == null ? "" : str(at(e, "value")));
        source.put(key, "literal");
      } else if (at(valueFrom, "configMapKeyRef") != null) {
        String cm = str(at(valueFrom, "configMapKeyRef", "name"));
        String ref = str(at(valueFrom, "configMapKeyRef", "key"));
        Map<String, String> values = configMap(cm);
        if (values == null || !values.containsKey(ref)) {
          problems.add(kind + "/" + name + ": " + key + " refers to missing ConfigMap key " + cm + "/" + ref);
        } else {
          env.put(key, values.get(ref));
          source.put(key, "ConfigMap " + cm);
        }
      } else if (at(valueFrom, "secretKeyRef") != null) {
        String secret = str(at(valueFrom, "secretKeyRef", "name"));
        String ref = str(at(valueFrom, "secretKeyRef", "key"));
        Map<String, String> values = secret(secret);
        if (values == null || !values.containsKey(ref)) {
          problems.add(kind + "/" + name + ": " + key + " refers to missing Secret key " + secret + "/" + ref);
        } else {
          env.put(key, values.get(ref));
          source.put(key, "Secret " + secret);
        }
      } else if (at(valueFrom, "fieldRef") != null) {
        env.put(key, name + "-pod");
        source.put(key, "fieldRef");
      } else {
        problems.add(kind + "/" + name + ": " + key + " has an unsupported valueFrom " + valueFrom);
      }
    }
    return new Workload(kind, name, service, c, podSpec, env, source, problems);
  }

  private static Map<String, String> configMap(String name) {
    Map<String, Object> cm = resources.getOrDefault("ConfigMap", Map.of()).get(name);
    if (cm == null) {
      return null;
    }
    Map<String, String> out = new LinkedHashMap<>();
    map(cm.get("data"), name + ".data").forEach((k, v) -> out.put(k, v == null ? "" : String.valueOf(v)));
    return out;
  }

  private static Map<String, String> secret(String name) {
    Map<String, Object> s = resources.getOrDefault("Secret", Map.of()).get(name);
    if (s == null) {
      return null;
    }
    Map<String, String> out = new LinkedHashMap<>();
    map(s.get("data"), name + ".data").forEach((k, v) ->
        out.put(k, new String(Base64.getDecoder().decode(String.valueOf(v)), StandardCharsets.UTF_8)));
    map(s.get("stringData"), name + ".stringData").forEach((k, v) -> out.put(k, v == null ? "" : String.valueOf(v)));
    return out;
  }

  private static Map<String, String> withImageEnv(Workload w) {
    try {
      Map<String, String> all = new LinkedHashMap<>(Dockerfile.read(
          YamlFiles.DEPLOY.resolve("docker").resolve(w.service().image).resolve("Dockerfile")).keyValues("ENV"));
      all.putAll(w.env());
      return all;
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  private static Map<String, Object> one(String kind, String name) {
    Map<String, Object> r = resources.getOrDefault(kind, Map.of()).get(name);
    assertNotNull(r, "missing " + kind + "/" + name);
    return r;
  }

  /** A port given by name or number, resolved against the container's named ports. */
  private static Integer resolvePort(Workload w, Object port) {
    if (port instanceof Number n) {
      return n.intValue();
    }
    for (Object p : list(w.container().get("ports"), "ports")) {
      if (String.valueOf(port).equals(str(at(p, "name")))) {
        return ((Number) at(p, "containerPort")).intValue();
      }
    }
    return null;
  }

  @Test
  void everyManifestFileIsListedInTheKustomization() throws IOException {
    Map<String, Object> kustomization = YamlFiles.loadAll(DIR.resolve("kustomization.yaml")).get(0);
    Set<String> listed = list(kustomization.get("resources"), "resources").stream().map(String::valueOf)
        .collect(Collectors.toCollection(TreeSet::new));
    try (Stream<Path> files = Files.list(DIR)) {
      Set<String> present = files.map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml") && !n.equals(SECRETS_EXAMPLE))
          .collect(Collectors.toCollection(TreeSet::new));
      assertEquals(present, listed);
    }
    for (Map<String, Object> doc : YamlFiles.loadAll(DIR.resolve(SECRETS_EXAMPLE))) {
      assertEquals("Secret", str(doc.get("kind")), SECRETS_EXAMPLE + " holds only Secrets");
    }
    for (String file : listed) {
      for (Map<String, Object> doc : YamlFiles.loadAll(DIR.resolve(file))) {
        assertTrue(!"Secret".equals(str(doc.get("kind"))), file + ": a Secret applied by every deploy overwrites the"
            + " operator's real one");
      }
    }
    Set<String> images = list(kustomization.get("images"), "images").stream().map(i -> str(at(i, "name")))
        .collect(Collectors.toCollection(TreeSet::new));
    Set<String> all = Stream.of(DeployedService.values()).map(s -> "visual-search/" + s.image)
        .collect(Collectors.toCollection(TreeSet::new));
    assertEquals(all, images, "kustomization images (registry and tag overrides) cover every image");
  }

  @Test
  void everyServiceRunsInItsOwnDeploymentAndTheTopicsInAJob() {
    for (DeployedService s : DeployedService.values()) {
      List<Workload> running = workloads.values().stream().filter(w -> w.service() == s).toList();
      assertEquals(1, running.size(), s.image + " runs in exactly one workload");
      Workload w = running.get(0);
      assertEquals(s.isServer() ? "Deployment" : "Job", w.kind(), s.image);
      assertEquals(s.image, w.name(), "workload named after its image");
    }
  }

  @Test
  void everyVariableIsDefinedRequiredOnesAreSetAndValuesParse() {
    List<String> problems = new ArrayList<>();
    for (Workload w : workloads.values()) {
      problems.addAll(w.problems());
      problems.addAll(EnvCheck.of("k8s " + w.where(), w.service(), withImageEnv(w)).problems);
    }
    assertEquals(List.of(), problems);
  }

  /** A service that can reach Kafka is given it: without, its heartbeat is off and the health page never lists it. */
  @Test
  void everyServiceThatReadsTheBrokerIsGivenIt() {
    List<String> missing = new ArrayList<>();
    for (Workload w : workloads.values()) {
      boolean reads = w.service().definition().settings().stream().anyMatch(s -> s.env().equals("KAFKA_BOOTSTRAP_SERVERS"));
      if (reads && w.env().getOrDefault("KAFKA_BOOTSTRAP_SERVERS", "").isBlank()) {
        missing.add(w.where());
      }
    }
    assertEquals(List.of(), missing);
  }

  /** Credentials only from Secrets; every other setting from a ConfigMap (or the pod's own fields). */
  @Test
  void secretsComeFromSecretsAndEverythingElseFromConfigMaps() {
    List<String> problems = new ArrayList<>();
    for (Workload w : workloads.values()) {
      Map<String, Setting<?>> defs = w.service().definition().settings().stream()
          .collect(Collectors.toMap(Setting::env, s -> s));
      w.source().forEach((key, from) -> {
        Setting<?> def = defs.get(key);
        boolean secret = DeployedService.CREDENTIALS.contains(key) || def != null && def.isSecret();
        if (secret && !from.startsWith("Secret ")) {
          problems.add(w.where() + ": " + key + " is a credential but comes from " + from);
        } else if (!secret && !from.startsWith("ConfigMap ") && !from.equals("fieldRef")) {
          problems.add(w.where() + ": " + key + " comes from " + from + ", not a ConfigMap");
        }
      });
    }
    for (Map.Entry<String, Map<String, Object>> cm : resources.getOrDefault("ConfigMap", Map.of()).entrySet()) {
      for (String key : configMap(cm.getKey()).keySet()) {
        if (DeployedService.CREDENTIALS.contains(key)) {
          problems.add("ConfigMap " + cm.getKey() + " holds the credential " + key);
        }
      }
    }
    assertEquals(List.of(), problems);
  }

  /**
   * A Secret key the service can do without is referenced optional: the Secret may hold only what
   * this deployment needs (e.g. only the S3 keys for a plaintext in-cluster Kafka), and a missing
   * non-optional key stops the pod at CreateContainerConfigError before the service ever runs.
   */
  @Test
  void secretKeysOfSettingsThatAreNotRequiredAreReferencedOptional() {
    List<String> problems = new ArrayList<>();
    for (Workload w : workloads.values()) {
      Map<String, Setting<?>> defs = w.service().definition().settings().stream()
          .collect(Collectors.toMap(Setting::env, s -> s));
      for (Object e : list(w.container().get("env"), "env")) {
        Object ref = at(e, "valueFrom", "secretKeyRef");
        Setting<?> def = defs.get(str(at(e, "name")));
        if (ref != null && def != null && !def.required() && !Boolean.TRUE.equals(at(ref, "optional"))) {
          problems.add(w.where() + ": " + def.env() + " is not required but its secretKeyRef is not optional: true");
        }
      }
    }
    assertEquals(List.of(), problems);
  }

  /**
   * A Job's pod template is immutable: while the finished topic-init Job is kept, an apply with a
   * new image tag is refused. Kept minutes (for kubectl wait and its log), not a day.
   */
  /**
   * A configuration error (exit 2) or a refused layout (exit 4) recurs on every try: retried with
   * the kubelet's back-off, the Job took about half an hour to fail, long after `kubectl wait` gave
   * up. Only an unreachable broker (6) is worth another pod.
   */
  @Test
  void topicInitFailsAtOnceOnTheExitCodesARetryCannotFix() {
    Object job = one("Job", "topic-init");
    assertEquals("Never", at(job, "spec", "template", "spec", "restartPolicy"), "podFailurePolicy needs Never");
    List<Object> failJob = new ArrayList<>();
    for (Object rule : list(at(job, "spec", "podFailurePolicy", "rules"), "rules")) {
      if ("FailJob".equals(at(rule, "action")) && "In".equals(at(rule, "onExitCodes", "operator"))) {
        failJob.addAll(list(at(rule, "onExitCodes", "values"), "values"));
      }
    }
    assertTrue(failJob.contains(2) && failJob.contains(4) && !failJob.contains(6), "FailJob on " + failJob);
  }

  @Test
  void finishedTopicInitJobIsRemovedWithinMinutes() {
    Object ttl = at(one("Job", "topic-init"), "spec", "ttlSecondsAfterFinished");
    assertTrue(ttl instanceof Number n && n.intValue() >= 60 && n.intValue() <= 600,
        "topic-init: ttlSecondsAfterFinished " + ttl + ", want 60..600");
  }

  /**
   * The health page's trace links are followed by the operator's browser: set explicitly (the
   * default is a Zipkin on the viewer's own machine, which a port-forward makes the cluster's), to
   * an http(s) address, not a cluster-internal service name no browser resolves.
   */
  @Test
  void healthPageLinksToAZipkinABrowserReaches() {
    List<String> problems = new ArrayList<>();
    for (Workload w : workloads.values()) {
      boolean links = w.service().definition().settings().stream().anyMatch(s -> s.env().equals("HEALTH_ZIPKIN_UI"));
      if (!links) {
        continue;
      }
      String value = w.env().get("HEALTH_ZIPKIN_UI");
      URI ui = value == null ? null : URI.create(value);
      if (ui == null || ui.getHost() == null || !List.of("http", "https").contains(ui.getScheme())
          || ui.getHost().endsWith(".svc") || ui.getHost().contains(".svc.")) {
        problems.add(w.where() + ": HEALTH_ZIPKIN_UI '" + value + "' is not an address a browser reaches");
      }
    }
    assertEquals(List.of(), problems);
  }

  /** A ConfigMap key no workload reads is a setting that silently does nothing. */
  @Test
  void everyConfigMapAndSecretKeyIsRead() {
    Set<String> read = new HashSet<>();
    for (Workload w : workloads.values()) {
      w.source().forEach((key, from) -> read.add(from + "/" + key));
      for (Object e : list(w.container().get("env"), "env")) {
        for (String kind : List.of("configMapKeyRef", "secretKeyRef")) {
          Object ref = at(e, "valueFrom", kind);
          if (ref != null) {
            read.add((kind.startsWith("config") ? "ConfigMap " : "Secret ") + str(at(ref, "name")) + "/" + str(at(ref, "key")));
          }
        }
      }
    }
    List<String> unread = new ArrayList<>();
    resources.getOrDefault("ConfigMap", Map.of()).keySet().forEach(n -> configMap(n).keySet().stream()
        .filter(k -> !read.contains("ConfigMap " + n + "/" + k)).forEach(k -> unread.add("ConfigMap " + n + "/" + k)));
    resources.getOrDefault("Secret", Map.of()).keySet().forEach(n -> secret(n).keySet().stream()
        .filter(k -> !read.contains("Secret " + n + "/" + k)).forEach(k -> unread.add("Secret " + n + "/" + k)));
    assertEquals(List.of(), unread);
  }

  @Test
  void containerPortsProbesAndResourcesMatchTheService() {
    List<String> problems = new ArrayList<>();
    for (Workload w : workloads.values()) {
      EnvCheck check = EnvCheck.of(w.where(), w.service(), withImageEnv(w));
      if (check.config == null) {
        continue; // reported by everyVariableIsDefined...
      }
      Map<String, Integer> declared = new LinkedHashMap<>();
      list(w.container().get("ports"), "ports").forEach(p -> declared.put(str(at(p, "name")),
          ((Number) at(p, "containerPort")).intValue()));
      Map<String, Integer> expected = w.service().expectedPorts(check.config);
      if (!declared.equals(expected)) {
        problems.add(w.where() + ": container ports " + declared + " but the service listens on " + expected);
      }
      if (w.service().isServer()) {
        int ops = w.service().opsPort(check.config);
        for (String[] probe : new String[][] {{"readinessProbe", "/readyz"}, {"livenessProbe", "/healthz"},
            {"startupProbe", null}}) {
          Object p = w.container().get(probe[0]);
          if (p == null) {
            if (probe[1] != null) {
              problems.add(w.where() + ": no " + probe[0]);
            }
            continue;
          }
          String path = str(at(p, "httpGet", "path"));
          if (probe[1] != null ? !probe[1].equals(path) : !List.of("/healthz", "/readyz").contains(path)) {
            problems.add(w.where() + ": " + probe[0] + " asks " + path);
          }
          Integer port = resolvePort(w, at(p, "httpGet", "port"));
          if (port == null || port != ops) {
            problems.add(w.where() + ": " + probe[0] + " port " + at(p, "httpGet", "port") + " is not the ops port " + ops);
          }
        }
      }
      for (String r : List.of("requests.cpu", "requests.memory", "limits.memory")) {
        if (at(w.container().get("resources"), r.split("\\.")) == null) {
          problems.add(w.where() + ": no resources." + r);
        }
      }
    }
    assertEquals(List.of(), problems);
  }

  @Test
  void everyServerHasAServiceSelectingOnlyItsPods() {
    List<String> problems = new ArrayList<>();
    for (Workload w : workloads.values()) {
      if (!w.kind().equals("Deployment")) {
        continue;
      }
      Map<String, Object> deployment = one("Deployment", w.name());
      Map<String, Object> podLabels = map(at(deployment, "spec", "template", "metadata", "labels"), "labels");
      Map<String, Object> matchLabels = map(at(deployment, "spec", "selector", "matchLabels"), "matchLabels");
      if (matchLabels.isEmpty() || !podLabels.entrySet().containsAll(matchLabels.entrySet())) {
        problems.add(w.where() + ": selector " + matchLabels + " does not match its pod labels " + podLabels);
      }
      Map<String, Object> svc = resources.getOrDefault("Service", Map.of()).get(w.name());
      if (svc == null) {
        problems.add(w.where() + ": no Service " + w.name());
        continue;
      }
      Map<String, Object> selector = map(at(svc, "spec", "selector"), "selector");
      for (Workload other : workloads.values()) {
        Map<String, Object> labels = map(at(one(other.kind(), other.name()), "spec", "template", "metadata", "labels"), "labels");
        boolean selected = !selector.isEmpty() && labels.entrySet().containsAll(selector.entrySet());
        if (selected != (other == w)) {
          problems.add("Service/" + w.name() + (selected ? " selects pods of " : " does not select pods of ") + other.where());
        }
      }
      for (Object p : list(at(svc, "spec", "ports"), "ports")) {
        Object target = at(p, "targetPort") != null ? at(p, "targetPort") : at(p, "port");
        if (resolvePort(w, target) == null || list(w.container().get("ports"), "ports").stream()
            .noneMatch(cp -> resolvePort(w, target).equals(((Number) at(cp, "containerPort")).intValue()))) {
          problems.add("Service/" + w.name() + ": targetPort " + target + " is no container port");
        }
      }
    }
    assertEquals(List.of(), problems);
  }

  /** MODEL_SERVER_TARGET names the model-server Service on the port that reaches its gRPC port. */
  @Test
  void modelClientsReachTheModelServersGrpcPort() {
    Workload server = workloads.get("model-server");
    int grpc = server.service().expectedPorts(EnvCheck.of("", server.service(), withImageEnv(server)).config).get("grpc");
    int clients = 0;
    for (Workload w : workloads.values()) {
      String target = w.env().get("MODEL_SERVER_TARGET");
      if (target == null) {
        continue;
      }
      clients++;
      String host = target.substring(0, target.lastIndexOf(':'));
      int port = Integer.parseInt(target.substring(target.lastIndexOf(':') + 1));
      Map<String, Object> svc = one("Service", host.split("\\.")[0]);
      Object targetPort = list(at(svc, "spec", "ports"), "ports").stream()
          .filter(p -> ((Number) at(p, "port")).intValue() == port).map(p -> at(p, "targetPort")).findFirst()
          .orElseThrow(() -> new AssertionError(w.where() + ": Service " + host + " has no port " + port));
      assertEquals(Integer.valueOf(grpc), resolvePort(server, targetPort), w.where() + ": MODEL_SERVER_TARGET " + target);
    }
    assertEquals(2, clients, "embeddings-generator and search-api call the model server");
  }

  @Test
  void modelServerMountsItsModelDirectory() {
    Workload w = workloads.get("model-server");
    String base = withImageEnv(w).get("MODEL_SERVER_BASE_PATH");
    Object mount = list(w.container().get("volumeMounts"), "volumeMounts").stream()
        .filter(m -> base.equals(str(at(m, "mountPath")))).findFirst()
        .orElseThrow(() -> new AssertionError("model-server: nothing mounted at MODEL_SERVER_BASE_PATH " + base));
    Object volume = list(w.podSpec().get("volumes"), "volumes").stream()
        .filter(v -> str(at(mount, "name")).equals(str(at(v, "name")))).findFirst()
        .orElseThrow(() -> new AssertionError("model-server: no volume " + at(mount, "name")));
    one("PersistentVolumeClaim", str(at(volume, "persistentVolumeClaim", "claimName")));
  }

  /**
   * A service's scratch directory (a feed spool, a build's shards, loaded index files) is a volume
   * of the pod: left at its default, in the JVM's temporary directory, it filled the container's
   * writable layer, the node's disk, whose pressure evicts every pod on the node.
   */
  @Test
  void everyScratchDirectoryIsAVolumeOfThePod() {
    Set<String> scratch = Set.of("CATALOG_SPOOL_DIR", "INDEX_BUILDER_SCRATCH_DIR", "SEARCH_INDEX_DIR",
        "SIMILAR_ITEMS_INDEX_DIR");
    int checked = 0;
    for (Workload w : workloads.values()) {
      if (w.service() == null) {
        continue;
      }
      for (String name : scratch) {
        if (w.service().definition().settings().stream().noneMatch(d -> d.env().equals(name))) {
          continue;
        }
        checked++;
        String dir = w.env().get(name);
        assertNotNull(dir, w.where() + ": " + name + " is not set, so it is the JVM's temporary directory");
        Object mount = list(w.container().get("volumeMounts"), w.where() + " volumeMounts").stream()
            .filter(m -> dir.equals(str(at(m, "mountPath"))) || dir.startsWith(str(at(m, "mountPath")) + "/"))
            .findFirst()
            .orElseThrow(() -> new AssertionError(w.where() + ": nothing is mounted at " + name + " " + dir));
        Object volume = list(w.podSpec().get("volumes"), w.where() + " volumes").stream()
            .filter(v -> str(at(mount, "name")).equals(str(at(v, "name")))).findFirst()
            .orElseThrow(() -> new AssertionError(w.where() + ": no volume " + at(mount, "name")));
        assertTrue(at(volume, "emptyDir") != null || at(volume, "persistentVolumeClaim") != null,
            w.where() + ": " + name + " on volume " + at(volume, "name") + ", neither an emptyDir nor a claim");
      }
    }
    assertEquals(scratch.size(), checked, "each scratch directory's service was found");
  }

  /**
   * image-indexer and embeddings-generator scale by consumer group: an HPA each, never beyond the
   * topics' partition count (extra consumers would sit idle). Nothing scales index-builder.
   */
  @Test
  void kafkaConsumersScaleByConsumerGroupAndIndexBuilderStaysSingle() {
    int partitions = Integer.parseInt(withImageEnv(workloads.get("topic-init")).getOrDefault("TOPICS_PARTITIONS",
        String.valueOf(TopicInitSettings.PARTITIONS.defaultValue())));
    Map<String, Map<String, Object>> hpas = resources.getOrDefault("HorizontalPodAutoscaler", Map.of());
    Set<String> scaled = new TreeSet<>();
    for (Map<String, Object> hpa : hpas.values()) {
      String target = str(at(hpa, "spec", "scaleTargetRef", "name"));
      assertEquals("Deployment", str(at(hpa, "spec", "scaleTargetRef", "kind")));
      Map<String, Object> deployment = one("Deployment", target);
      int min = ((Number) at(hpa, "spec", "minReplicas")).intValue();
      int max = ((Number) at(hpa, "spec", "maxReplicas")).intValue();
      assertTrue(1 <= min && min <= max, target + ": minReplicas " + min + ", maxReplicas " + max);
      assertTrue(max <= partitions, target + ": maxReplicas " + max + " > " + partitions + " partitions");
      assertNull(at(deployment, "spec", "replicas"), target + ": the HPA owns the replica count; a fixed one is reset"
          + " by every apply");
      assertTrue(!workloads.get(target).env().containsKey("KAFKA_GROUP_ID"),
          target + ": replicas must share the default consumer group");
      scaled.add(target);
    }
    assertEquals(new TreeSet<>(List.of("embeddings-generator", "image-indexer")), scaled);

    Map<String, Object> indexBuilder = one("Deployment", "index-builder");
    assertEquals(1, ((Number) at(indexBuilder, "spec", "replicas")).intValue(), "index-builder: one writer");
    assertEquals("Recreate", str(at(indexBuilder, "spec", "strategy", "type")),
        "index-builder: the old writer stops before the new one starts");
  }

  /**
   * search-api replicas on different nodes, and a pod that keeps answering a few seconds after
   * SIGTERM while the Service stops routing to it (the endpoints update is not instant).
   */
  @Test
  void searchApiSpreadsOverNodesAndLeavesTheServiceBeforeItStops() {
    Map<String, Object> deployment = one("Deployment", "search-api");
    List<Object> spread = list(at(deployment, "spec", "template", "spec", "topologySpreadConstraints"), "spread");
    assertTrue(spread.stream().anyMatch(c -> "kubernetes.io/hostname".equals(str(at(c, "topologyKey")))),
        "search-api: replicas spread over nodes");
    Workload w = workloads.get("search-api");
    assertNotNull(at(w.container(), "lifecycle", "preStop"), "search-api: a preStop pause before SIGTERM");
  }

  /** Every pod meets Pod Security "restricted": a namespace that enforces it admits them all. */
  @Test
  void everyPodRunsRestricted() {
    for (Workload w : workloads.values()) {
      assertEquals(Boolean.TRUE, at(w.podSpec(), "securityContext", "runAsNonRoot"), w.where() + ": runAsNonRoot");
      assertEquals("RuntimeDefault", str(at(w.podSpec(), "securityContext", "seccompProfile", "type")),
          w.where() + ": seccomp profile");
      assertEquals(Boolean.FALSE, at(w.container(), "securityContext", "allowPrivilegeEscalation"),
          w.where() + ": allowPrivilegeEscalation");
      assertEquals(List.of("ALL"), list(at(w.container(), "securityContext", "capabilities", "drop"), "drop"),
          w.where() + ": capabilities dropped");
    }
  }

  /** Thread pools sized to the container's CPU limit, not the node's cores. */
  @Test
  void computeThreadsFitTheCpuLimit() {
    for (String[] setting : new String[][] {{"model-server", "MODEL_SERVER_INTRA_OP_THREADS"},
        {"model-server", "MODEL_SERVER_INTER_OP_THREADS"}, {"index-builder", "INDEX_BUILDER_BUILD_THREADS"}}) {
      Workload w = workloads.get(setting[0]);
      String value = withImageEnv(w).get(setting[1]);
      assertNotNull(value, setting[0] + ": " + setting[1] + " unset, so sized to the node's cores");
      String cpu = str(at(w.container(), "resources", "limits", "cpu"));
      int threads = Integer.parseInt(value);
      assertTrue(threads >= 1 && threads <= Math.max(1, (int) Math.floor(Double.parseDouble(cpu.replace("m", "")) /
          (cpu.endsWith("m") ? 1000 : 1))), setting[0] + ": " + setting[1] + "=" + value + " with a CPU limit of " + cpu);
    }
  }

  @Test
  void searchApiHasADisruptionBudgetThatStillLetsNodesDrain() {
    Map<String, Object> deployment = one("Deployment", "search-api");
    Map<String, Object> podLabels = map(at(deployment, "spec", "template", "metadata", "labels"), "labels");
    List<Map<String, Object>> pdbs = resources.getOrDefault("PodDisruptionBudget", Map.of()).values().stream()
        .filter(p -> podLabels.entrySet().containsAll(map(at(p, "spec", "selector", "matchLabels"), "sel").entrySet()))
        .toList();
    assertEquals(1, pdbs.size(), "one PodDisruptionBudget selects the search-api pods");
    int replicas = ((Number) at(deployment, "spec", "replicas")).intValue();
    Object minAvailable = at(pdbs.get(0), "spec", "minAvailable");
    assertTrue(minAvailable instanceof Number n && n.intValue() >= 1 && n.intValue() < replicas,
        "minAvailable " + minAvailable + " with " + replicas + " replicas");
  }
}
