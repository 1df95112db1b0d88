package io.visualsearch.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The build commands the deployment files give work on a fresh clone: no offline Maven (an empty
 * ~/.m2 has nothing to resolve from) and no absolute path of one machine's checkout.
 */
class BuildInstructionsTest {

  private static final Pattern OFFLINE_MAVEN = Pattern.compile("\\bmvn\\b.*(\\s-o\\b|--offline)");
  private static final Pattern ABSOLUTE_CD = Pattern.compile("\\bcd\\s+/");

  @Test
  void buildCommandsRunOnAFreshCloneFromTheRepositoryRoot() throws IOException {
    List<Path> files = new ArrayList<>(List.of(YamlFiles.DEPLOY.resolve("README.md"), YamlFiles.DEPLOY.resolve("compose.yaml")));
    try (Stream<Path> dockerfiles = Files.list(YamlFiles.DEPLOY.resolve("docker"))) {
      dockerfiles.map(d -> d.resolve("Dockerfile")).sorted().forEach(files::add);
    }
    List<String> problems = new ArrayList<>();
    for (Path file : files) {
      List<String> lines = Files.readAllLines(file);
      for (int i = 0; i < lines.size(); i++) {
        String line = lines.get(i);
        if (OFFLINE_MAVEN.matcher(line).find() || ABSOLUTE_CD.matcher(line).find()) {
          problems.add(YamlFiles.DEPLOY.relativize(file) + ":" + (i + 1) + ": " + line.strip());
        }
      }
    }
    assertEquals(List.of(), problems);
  }
}
