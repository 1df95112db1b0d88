package io.visualsearch.faiss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged fat jar carries the JNI library: a new JVM with nothing else on its classpath
 * and an empty JavaCPP cache extracts it from the jar, loads it and searches.
 */
class ITFatJarLoad {

    @Test
    void freshJvmLoadsTheLibraryFromTheFatJar(@TempDir Path cache) throws Exception {
        Path fatJar = Path.of(System.getProperty("faiss.fatJar", "target/faiss-0.1.0-SNAPSHOT-all.jar"));
        assertTrue(Files.isRegularFile(fatJar), "fat jar missing: " + fatJar + " (run mvn package)");
        Path testClasses = Path.of(FatJarProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path javaLauncher = Path.of(System.getProperty("java.home"), "bin", "java");

        ProcessBuilder builder = new ProcessBuilder(List.of(javaLauncher.toString(),
                "-Dorg.bytedeco.javacpp.cachedir=" + cache,
                "-cp", fatJar + File.pathSeparator + testClasses,
                FatJarProbe.class.getName()))
                .redirectErrorStream(true);
        builder.environment().remove("LD_LIBRARY_PATH");
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "probe JVM hung");
        assertEquals(0, process.exitValue(), output);
        assertTrue(output.contains("nearest=42"), output);
        assertTrue(output.contains(fatJar.getFileName().toString()), "classes did not come from the fat jar: " + output);
        assertTrue(extractedLibraries(cache).stream().anyMatch(p -> p.getFileName().toString().equals("libjniFaissPreset.so")),
                "JNI library was not extracted from the jar into " + cache);
    }

    private static List<Path> extractedLibraries(Path cache) throws IOException {
        try (Stream<Path> files = Files.walk(cache)) {
            return files.filter(Files::isRegularFile).toList();
        }
    }
}
