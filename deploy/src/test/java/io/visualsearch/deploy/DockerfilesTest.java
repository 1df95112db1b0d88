package io.visualsearch.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * No image can be built here (no Docker daemon, no network), so each Dockerfile is checked against
 * what it packages: the staged build context under target/docker/<image> (written by ImageStager
 * before the tests), the main class in the module's jar, and the service's settings.
 */
class DockerfilesTest {

  private static Dockerfile dockerfile(DeployedService s) throws IOException {
    Path p = YamlFiles.DEPLOY.resolve("docker").resolve(s.image).resolve("Dockerfile");
    assertTrue(Files.isRegularFile(p), "missing " + p);
    return Dockerfile.read(p);
  }

  @Test
  void everyImageDirectoryBelongsToAKnownService() throws IOException {
    try (Stream<Path> dirs = Files.list(YamlFiles.DEPLOY.resolve("docker"))) {
      Set<String> images = dirs.filter(Files::isDirectory).map(d -> d.getFileName().toString())
          .collect(Collectors.toCollection(TreeSet::new));
      Set<String> expected = Arrays.stream(DeployedService.values()).map(s -> s.image)
          .collect(Collectors.toCollection(TreeSet::new));
      assertEquals(expected, images);
    }
  }

  /** The table's main classes are the ones `./visual-search run <service>` starts. */
  @Test
  void mainClassesAgreeWithTheVisualSearchScript() throws IOException {
    String script = Files.readString(YamlFiles.ROOT.resolve("visual-search"));
    Matcher m = Pattern.compile("(?m)^\\s*([a-z-]+)\\) echo (io\\.visualsearch\\.[A-Za-z.]+Main) ;;").matcher(script);
    Map<String, String> scripted = new HashMap<>();
    while (m.find()) {
      scripted.put(m.group(1), m.group(2));
    }
    for (DeployedService s : DeployedService.values()) {
      if (s.isServer()) {
        assertEquals(scripted.get(s.image), s.mainClass, s.image + ": main class differs from the visual-search script");
      }
    }
  }

  @ParameterizedTest
  @EnumSource(DeployedService.class)
  void baseImageUserAndModuleLabel(DeployedService s) throws IOException {
    Dockerfile d = dockerfile(s);
    assertTrue(d.single("FROM").startsWith("eclipse-temurin:17-jre"), d.path() + ": base is " + d.single("FROM"));
    assertEquals(s.module, d.keyValues("LABEL").get("io.visualsearch.module"), d.path() + ": module label");
    String user = d.single("USER");
    assertTrue(!user.equals("root") && !user.equals("0"), d.path() + ": runs as root");
  }

  /** The JVM ends with 3 on an OutOfMemoryError under ExitOnOutOfMemoryError: no exit code of ours may mean 3 too. */
  @ParameterizedTest
  @EnumSource(DeployedService.class)
  void anOutOfMemoryExitIsNotOneOfTheServicesOwnCodes(DeployedService s) throws IOException {
    Dockerfile d = dockerfile(s);
    if (d.entrypoint().contains("-XX:+ExitOnOutOfMemoryError")) {
      for (io.visualsearch.runtime.ExitCode code : io.visualsearch.runtime.ExitCode.values()) {
        assertTrue(code.code() != 3, d.path() + ": " + code + " exits 3, as the JVM does on an OutOfMemoryError");
      }
    }
  }

  @ParameterizedTest
  @EnumSource(DeployedService.class)
  void entrypointRunsTheServiceMainFromItsOwnJar(DeployedService s) throws Exception {
    Dockerfile d = dockerfile(s);
    List<String> ep = d.entrypoint();
    assertEquals("java", ep.get(0), d.path() + ": ENTRYPOINT must start java");
    assertEquals(s.mainClass, ep.get(ep.size() - 1), d.path() + ": main class");
    int cpAt = ep.indexOf("-cp");
    assertTrue(cpAt > 0, d.path() + ": ENTRYPOINT has no -cp");
    List<String> classpath = List.of(ep.get(cpAt + 1).split(":"));
    assertEquals("/app/" + s.module + ".jar", classpath.get(0), d.path() + ": the module's jar comes first");

    // Every classpath entry exists in the staged context once COPY has put it in place.
    Path stage = YamlFiles.STAGING.resolve(s.image);
    List<URL> urls = new ArrayList<>();
    for (String entry : classpath) {
      Path local = fromImage(d, stage, entry.endsWith("/*") ? entry.substring(0, entry.length() - 1) : entry);
      if (entry.endsWith("/*")) {
        try (Stream<Path> jars = Files.list(local)) {
          List<Path> all = jars.filter(p -> p.toString().endsWith(".jar")).toList();
          assertTrue(!all.isEmpty(), d.path() + ": " + entry + " is empty in " + local);
          for (Path j : all) {
            urls.add(j.toUri().toURL());
          }
        }
      } else {
        assertTrue(Files.isRegularFile(local), d.path() + ": " + entry + " is not staged at " + local);
        urls.add(local.toUri().toURL());
      }
    }

    // The main class is in the module's own jar, with a public static void main(String[]).
    Path moduleJar = fromImage(d, stage, classpath.get(0));
    try (JarFile jar = new JarFile(moduleJar.toFile())) {
      assertTrue(jar.getEntry(s.mainClass.replace('.', '/') + ".class") != null,
          moduleJar + " does not contain " + s.mainClass);
    }
    try (URLClassLoader loader = new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader())) {
      Class<?> main = Class.forName(s.mainClass, false, loader);
      Method m = main.getMethod("main", String[].class);
      assertTrue(Modifier.isStatic(m.getModifiers()) && m.getReturnType() == void.class, s.mainClass + ".main");
    }
    // The staged libraries are exactly the module's runtime classpath.
    Path cpFile = YamlFiles.ROOT.resolve(s.module).resolve("target/runtime-classpath.txt");
    Set<String> expectedLibs = Arrays.stream(Files.readString(cpFile).trim().split(":"))
        .map(p -> Path.of(p).getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
    try (Stream<Path> libs = Files.list(stage.resolve("lib"))) {
      assertEquals(expectedLibs, libs.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new)),
          stage + "/lib differs from " + cpFile);
    }
  }

  /**
   * Runs the ENTRYPOINT on the staged classpath with an empty environment: the process must get
   * as far as reading its settings and stop with the configuration exit code (2), naming every
   * required variable. A missing library or a wrong main class fails here with another code.
   */
  @ParameterizedTest
  @EnumSource(DeployedService.class)
  void entrypointStartsAndAsksForItsRequiredSettings(DeployedService s) throws Exception {
    Dockerfile d = dockerfile(s);
    Path stage = YamlFiles.STAGING.resolve(s.image);
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    List<String> ep = d.entrypoint();
    for (int i = 1; i < ep.size(); i++) {
      String a = ep.get(i);
      if (i > 1 && ep.get(i - 1).equals("-cp")) {
        a = Arrays.stream(a.split(":")).map(e -> e.endsWith("/*")
            ? fromImage(d, stage, e.substring(0, e.length() - 1)) + "/*" : fromImage(d, stage, e).toString())
            .collect(Collectors.joining(":"));
      }
      cmd.add(a);
    }
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().clear();
    Process p = pb.start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail(s.image + ": did not stop without configuration");
    }
    assertEquals(2, p.exitValue(), s.image + ": exit code without configuration; output:\n" + output);
    s.definition().settings().stream().filter(x -> x.required())
        .forEach(x -> assertTrue(output.contains(x.env()), s.image + ": does not name " + x.env() + ":\n" + output));
  }

  @ParameterizedTest
  @EnumSource(DeployedService.class)
  void envExposeAndHealthcheckMatchTheSettings(DeployedService s) throws IOException {
    Dockerfile d = dockerfile(s);
    Map<String, String> env = new LinkedHashMap<>(d.keyValues("ENV"));
    // Required settings are the deployment's to give; a placeholder stands in for them here.
    Map<String, String> withRequired = new LinkedHashMap<>(env);
    s.definition().settings().stream().filter(x -> x.required()).forEach(x -> withRequired.putIfAbsent(x.env(), "placeholder"));
    EnvCheck check = EnvCheck.of(d.path().toString(), s, withRequired);
    assertEquals(List.of(), check.problems);

    Set<Integer> exposed = new TreeSet<>();
    d.args("EXPOSE").forEach(a -> Arrays.stream(a.split("\\s+")).map(x -> x.replace("/tcp", "")).map(Integer::valueOf)
        .forEach(exposed::add));
    assertEquals(new TreeSet<>(s.expectedPorts(check.config).values()), exposed, d.path() + ": EXPOSE");

    String health = d.single("HEALTHCHECK");
    if (s.isServer()) {
      Matcher m = Pattern.compile("http://127\\.0\\.0\\.1:(\\$\\{OPS_PORT}|\\d+)/readyz").matcher(health);
      assertTrue(m.find(), d.path() + ": HEALTHCHECK must ask /readyz on the ops port: " + health);
      if (!m.group(1).startsWith("$")) {
        assertEquals(s.opsPort(check.config), Integer.parseInt(m.group(1)), d.path() + ": HEALTHCHECK port");
      }
    } else {
      assertEquals("NONE", health, d.path() + ": a job has no health check");
    }
  }

  /** Maps a path inside the image back to the staged context through the COPY instructions. */
  private static Path fromImage(Dockerfile d, Path stage, String imagePath) {
    String best = null;
    String bestSrc = null;
    for (String copy : d.args("COPY")) {
      String[] parts = copy.split("\\s+");
      String src = parts[0];
      String dest = parts[parts.length - 1];
      if (imagePath.startsWith(dest) && (best == null || dest.length() > best.length())) {
        best = dest;
        bestSrc = src;
      }
    }
    if (best == null) {
      throw new AssertionError(d.path() + ": nothing is copied to " + imagePath);
    }
    return stage.resolve(bestSrc).resolve(imagePath.substring(best.length())).normalize();
  }
}
