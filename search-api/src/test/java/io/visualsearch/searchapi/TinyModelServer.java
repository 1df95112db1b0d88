package io.visualsearch.searchapi;

import io.visualsearch.config.Config;
import io.visualsearch.modelserver.ModelServer;
import io.visualsearch.modelserver.ModelServerSettings;
import io.visualsearch.modelserver.TinyEmbeddingModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The real model server serving {@link TinyEmbeddingModels} from a temporary base path, version 1
 * published, with the server's default of serving the two newest versions on disk.
 */
final class TinyModelServer implements AutoCloseable {

  static final String MODEL = "default";

  private final Path base;
  private final ModelServer server;

  TinyModelServer() throws Exception {
    base = Files.createTempDirectory("it-search-api-models-");
    ModelServer started = null;
    try {
      publish(1);
      Config settings = ModelServerSettings.definition().parse(Map.of("MODEL_SERVER_BASE_PATH", base.toString(),
          "MODEL_SERVER_MODEL_NAME", MODEL, "MODEL_SERVER_GRPC_PORT", "0", "MODEL_SERVER_REST_PORT", "-1",
          "MODEL_SERVER_POLL_INTERVAL", "200ms"));
      started = new ModelServer(ModelServerSettings.from(settings));
      started.start();
    } catch (Exception | Error e) {
      if (started != null) {
        started.close();
      }
      delete(base);
      throw e;
    }
    server = started;
  }

  /** What search-api's settings name it by (MODEL_SERVER_TARGET, MODEL_NAME). */
  Map<String, String> env() {
    return Map.of("MODEL_SERVER_TARGET", "127.0.0.1:" + server.grpcPort(), "MODEL_NAME", MODEL);
  }

  /** Puts {@code version} on disk; the server loads it at its next scan. */
  Path publish(long version) throws IOException {
    return TinyEmbeddingModels.publish(base, MODEL, version, TinyEmbeddingModels.Contract.GENERATOR);
  }

  /** Takes {@code version} off disk, as a rollback does. */
  void withdraw(long version) throws IOException {
    delete(base.resolve(MODEL).resolve(Long.toString(version)));
  }

  @Override
  public void close() throws IOException {
    server.close();
    delete(base);
  }

  private static void delete(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
