package io.visualsearch.deploy;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** YAML as plain maps and lists (anchors and merge keys resolved), with typed accessors for tests. */
final class YamlFiles {

  static final Path DEPLOY = Path.of(System.getProperty("deploy.dir", ".")).toAbsolutePath().normalize();
  static final Path STAGING = Path.of(System.getProperty("deploy.stagingDir", DEPLOY.resolve("target/docker").toString()));
  static final Path ROOT = Path.of(System.getProperty("repo.root", DEPLOY.resolve("..").toString())).toAbsolutePath().normalize();
  static final String VERSION = System.getProperty("project.version", "0.1.0-SNAPSHOT");

  private YamlFiles() {}

  static List<Map<String, Object>> loadAll(Path file) throws IOException {
    List<Map<String, Object>> docs = new ArrayList<>();
    try (Reader r = Files.newBufferedReader(file)) {
      for (Object doc : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(r)) {
        if (doc != null) {
          docs.add(map(doc, file.getFileName().toString()));
        }
      }
    }
    return docs;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object o, String what) {
    if (o == null) {
      return new LinkedHashMap<>();
    }
    if (!(o instanceof Map)) {
      throw new AssertionError(what + " is not a mapping: " + o);
    }
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  static List<Object> list(Object o, String what) {
    if (o == null) {
      return new ArrayList<>();
    }
    if (!(o instanceof List)) {
      throw new AssertionError(what + " is not a list: " + o);
    }
    return (List<Object>) o;
  }

  /** Nested lookup: {@code at(doc, "spec", "template", "spec")}; null when any step is missing. */
  static Object at(Object node, String... path) {
    Object cur = node;
    for (String p : path) {
      if (!(cur instanceof Map<?, ?> m)) {
        return null;
      }
      cur = m.get(p);
    }
    return cur;
  }

  static String str(Object o) {
    return o == null ? null : String.valueOf(o);
  }
}
