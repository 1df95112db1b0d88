package io.visualsearch.deploy;

import static io.visualsearch.deploy.YamlFiles.at;
import static io.visualsearch.deploy.YamlFiles.list;
import static io.visualsearch.deploy.YamlFiles.map;
import static io.visualsearch.deploy.YamlFiles.str;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** deploy/compose.yaml against the services' definitions, the images and itself. */
class ComposeFileTest {

  private static final Path FILE = YamlFiles.DEPLOY.resolve("compose.yaml");
  /** Settings that name another container, as host:port or URL. */
  private static final List<String> ENDPOINTS = List.of("KAFKA_BOOTSTRAP_SERVERS", "S3_ENDPOINT", "ZIPKIN_ENDPOINT",
      "MODEL_SERVER_TARGET");

  private static Map<String, Object> services;

  @BeforeAll
  static void load() throws IOException {
    List<Map<String, Object>> docs = YamlFiles.loadAll(FILE);
    assertEquals(1, docs.size(), "compose.yaml holds one document");
    services = map(docs.get(0).get("services"), "services");
  }

  /** Our containers: compose service name -> service, by image. */
  static Map<String, DeployedService> ours() {
    Map<String, DeployedService> out = new LinkedHashMap<>();
    Pattern own = Pattern.compile("visual-search/([a-z-]+):(.+)");
    for (Map.Entry<String, Object> e : services.entrySet()) {
      Matcher m = own.matcher(String.valueOf(at(e.getValue(), "image")));
      if (m.matches()) {
        DeployedService s = DeployedService.byImage(m.group(1))
            .orElseThrow(() -> new AssertionError("compose service " + e.getKey() + " runs unknown image " + m.group(1)));
        assertEquals(YamlFiles.VERSION, m.group(2), e.getKey() + ": image tag is the project version");
        out.put(e.getKey(), s);
      }
    }
    return out;
  }

  /** Compose's ${VAR:-default} interpolation, resolved to the default as with an empty environment. */
  static String interpolate(String value) {
    Matcher m = Pattern.compile("\\$\\{([A-Z_][A-Z0-9_]*)(?::?-([^}]*))?}").matcher(value);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(sb, Matcher.quoteReplacement(m.group(2) == null ? "" : m.group(2)));
    }
    m.appendTail(sb);
    return sb.toString();
  }

  static Map<String, String> environment(String name) {
    Object env = at(services.get(name), "environment");
    Map<String, String> out = new LinkedHashMap<>();
    if (env instanceof List<?> l) {
      for (Object o : l) {
        String kv = String.valueOf(o);
        int eq = kv.indexOf('=');
        out.put(eq < 0 ? kv : kv.substring(0, eq), eq < 0 ? "" : interpolate(kv.substring(eq + 1)));
      }
    } else {
      map(env, name + ".environment").forEach((k, v) -> out.put(k, v == null ? "" : interpolate(String.valueOf(v))));
    }
    return out;
  }

  static Set<Integer> containerPorts(String name) {
    Set<Integer> out = new TreeSet<>();
    for (Object e : list(at(services.get(name), "expose"), name + ".expose")) {
      out.add(Integer.valueOf(String.valueOf(e).replace("/tcp", "")));
    }
    for (Object p : list(at(services.get(name), "ports"), name + ".ports")) {
      String[] parts = String.valueOf(p).replace("/tcp", "").split(":");
      out.add(Integer.valueOf(parts[parts.length - 1]));
    }
    return out;
  }

  @Test
  void everyServiceAndTheTopicJobRunFromTheirImage() {
    Map<String, DeployedService> ours = ours();
    assertEquals(new TreeSet<>(List.of(DeployedService.values())), new TreeSet<>(ours.values()),
        "every image runs in compose.yaml");
    ours.forEach((name, s) -> {
      assertEquals(s.image, name, "compose service named after its image");
      assertEquals("target/docker/" + s.image, str(at(services.get(name), "build", "context")), name + ": build context");
      assertTrue(Files.isRegularFile(FILE.getParent().resolve(str(at(services.get(name), "build", "context"))).resolve("Dockerfile")),
          name + ": the build context is not staged (mvn -B -ntp -pl deploy -am install -DskipTests)");
    });
  }

  @Test
  void everyServiceMayDrainBeforeDockerKillsIt() {
    // ServiceMain gives up at SERVICE_SHUTDOWN_TIMEOUT + 10 s; Docker's own default is 10 s.
    ours().forEach((name, s) -> {
      if (s.isServer()) {
        assertEquals("40s", str(at(services.get(name), "stop_grace_period")), name + ": stop_grace_period, as Kubernetes's"
            + " terminationGracePeriodSeconds");
      }
    });
  }

  @Test
  void everyVariableIsDefinedRequiredOnesAreSetAndValuesParse() {
    List<String> problems = new ArrayList<>();
    ours().forEach((name, s) -> {
      EnvCheck check = EnvCheck.of("compose.yaml " + name, s, withImageEnv(s, environment(name)));
      problems.addAll(check.problems);
      if (check.config != null) {
        Set<Integer> declared = containerPorts(name);
        Set<Integer> expected = new TreeSet<>(s.expectedPorts(check.config).values());
        if (!declared.equals(expected)) {
          problems.add("compose.yaml " + name + ": exposes " + declared + " but listens on " + expected);
        }
      }
    });
    assertEquals(List.of(), problems);
  }

  /** A service that can reach Kafka is given it: without, its heartbeat is off and the health page never lists it. */
  @Test
  void everyServiceThatReadsTheBrokerIsGivenIt() {
    List<String> missing = new ArrayList<>();
    ours().forEach((name, s) -> {
      boolean reads = s.definition().settings().stream().anyMatch(d -> d.env().equals("KAFKA_BOOTSTRAP_SERVERS"));
      if (reads && environment(name).getOrDefault("KAFKA_BOOTSTRAP_SERVERS", "").isBlank()) {
        missing.add(name);
      }
    });
    assertEquals(List.of(), missing);
  }

  /** The image's own ENV applies under the compose environment. */
  private static Map<String, String> withImageEnv(DeployedService s, Map<String, String> env) {
    try {
      Map<String, String> all = new LinkedHashMap<>(
          Dockerfile.read(YamlFiles.DEPLOY.resolve("docker").resolve(s.image).resolve("Dockerfile")).keyValues("ENV"));
      all.putAll(env);
      return all;
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  /**
   * Every address a service is given names a container of this file, on a port that container
   * exposes, and the service waits for that container (depends_on with a condition).
   */
  @Test
  void endpointsNameContainersThisServiceWaitsFor() {
    List<String> problems = new ArrayList<>();
    ours().forEach((name, s) -> {
      Map<String, String> env = environment(name);
      Map<String, Object> deps = map(at(services.get(name), "depends_on"), name + ".depends_on");
      for (String key : ENDPOINTS) {
        String value = env.get(key);
        if (value == null || value.isBlank()) {
          continue;
        }
        for (String address : value.split(",")) {
          URI uri = URI.create(address.contains("://") ? address : "tcp://" + address);
          if (!services.containsKey(uri.getHost())) {
            problems.add(name + ": " + key + " names " + uri.getHost() + ", not a container of compose.yaml");
            continue;
          }
          if (!containerPorts(uri.getHost()).contains(uri.getPort())) {
            problems.add(name + ": " + key + " uses port " + uri.getPort() + ", which " + uri.getHost() + " does not expose");
          }
          if (!deps.containsKey(uri.getHost())) {
            problems.add(name + ": " + key + " names " + uri.getHost() + ", which it does not depend on");
          }
        }
      }
    });
    assertEquals(List.of(), problems);
  }

  @Test
  void dependenciesWaitForHealthOrCompletion() {
    List<String> problems = new ArrayList<>();
    for (String name : services.keySet()) {
      map(at(services.get(name), "depends_on"), name + ".depends_on").forEach((dep, spec) -> {
        String condition = str(at(spec, "condition"));
        if (!services.containsKey(dep)) {
          problems.add(name + " depends on unknown " + dep);
        } else if ("service_healthy".equals(condition)) {
          boolean checked = at(services.get(dep), "healthcheck") != null
              || ours().containsKey(dep) && ours().get(dep).isServer(); // HEALTHCHECK in the image
          if (!checked) {
            problems.add(name + " waits for " + dep + " to be healthy, but it has no health check");
          }
        } else if (!"service_completed_successfully".equals(condition)) {
          problems.add(name + " -> " + dep + ": condition " + condition + " (want service_healthy or service_completed_successfully)");
        }
      });
    }
    assertEquals(List.of(), problems);
  }

  @Test
  void modelServerMountsItsModelDirectory() {
    String base = withImageEnv(DeployedService.MODEL_SERVER, environment("model-server")).get("MODEL_SERVER_BASE_PATH");
    boolean mounted = list(at(services.get("model-server"), "volumes"), "volumes").stream()
        .map(v -> interpolate(String.valueOf(v)).split(":")).anyMatch(v -> v.length >= 2 && v[1].equals(base));
    assertTrue(mounted, "model-server: nothing is mounted at MODEL_SERVER_BASE_PATH " + base);
  }

  @Test
  void topicsAreCreatedForOneBroker() {
    Map<String, String> env = environment("topic-init");
    assertEquals("1", env.get("TOPICS_REPLICATION_FACTOR"), "one broker holds one replica");
  }
}
