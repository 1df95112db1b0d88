package io.visualsearch.defaultmodel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Exporting again yields the same bytes, and a new version lands beside the old one without leftovers. */
class ITReproducibleExport {

  @Test
  void sameInputsGiveAByteIdenticalSavedModel(@TempDir Path base) throws Exception {
    Path built = Path.of(System.getProperty("defaultmodel.savedModel"));
    KerasModelArtifacts model = NsfwjsPackage.read(Path.of(System.getProperty("defaultmodel.package")), PinnedPackage.NSFWJS)
        .model(NsfwjsPackage.INCEPTION_V3);
    DefaultModelExporter exporter = new DefaultModelExporter();

    Path version7 = exporter.export(model, base, 7);
    assertEquals(base.resolve("7"), version7);
    assertArrayEquals(Files.readAllBytes(built.resolve("saved_model.pb")), Files.readAllBytes(version7.resolve("saved_model.pb")));

    Path again = exporter.export(model, base, 7); // replacing an existing version is allowed
    assertTrue(Files.isRegularFile(again.resolve("saved_model.pb")));
    try (Stream<Path> entries = Files.list(base)) {
      List<String> names = entries.map(p -> p.getFileName().toString()).toList();
      assertEquals(List.of("7"), names, "staging or retired directories left behind");
    }
    assertFalse(Files.exists(base.resolve("7").resolve("variables").resolve("variables.index")), "the model has no variables");
  }
}
