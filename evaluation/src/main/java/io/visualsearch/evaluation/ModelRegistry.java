package io.visualsearch.evaluation;

import io.visualsearch.defaultmodel.DefaultModelSignatures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Stream;

/**
 * Resolves the model names of {@code --models} against a TensorFlow-Serving base directory
 * ({@code <base>/<version>/saved_model.pb}):
 *
 * <ul>
 *   <li>{@code raw}: pixels, cosine — the baseline.
 *   <li>{@code mixed5}, {@code mixed7}, {@code mixed10}: the pretrained cuts of the baseline version
 *       (its {@code serving_default}, {@code mixed7} and {@code mixed10} signatures).
 *   <li>{@code finetuned}: {@code serving_default} of the fine-tuned version (by default the newest
 *       version above the baseline).
 *   <li>{@code v<N>}: {@code serving_default} of version N.
 * </ul>
 */
public final class ModelRegistry {

  public static final List<String> DEFAULT_MODELS = List.of("raw", "mixed5", "mixed7", "finetuned");

  private final Path base;
  private final long baselineVersion;
  private final OptionalLong finetunedVersion;

  public ModelRegistry(Path base, long baselineVersion, OptionalLong finetunedVersion) {
    this.base = base;
    this.baselineVersion = baselineVersion;
    this.finetunedVersion = finetunedVersion;
  }

  /** Opens the embedder named {@code name}; the caller closes it. */
  public Embedder open(String name, int height, int width) throws IOException {
    return switch (name) {
      case "raw" -> new RawPixelEmbedder(height, width);
      case "mixed5" -> savedModel(name, baselineVersion, DefaultModelSignatures.SERVING_DEFAULT);
      case "mixed7" -> savedModel(name, baselineVersion, DefaultModelSignatures.MIXED7);
      case "mixed10" -> savedModel(name, baselineVersion, DefaultModelSignatures.MIXED10);
      case "finetuned" -> savedModel(name, finetunedVersion(), DefaultModelSignatures.SERVING_DEFAULT);
      default -> {
        if (name.matches("v[1-9][0-9]*")) {
          yield savedModel(name, Long.parseLong(name.substring(1)), DefaultModelSignatures.SERVING_DEFAULT);
        }
        throw new IllegalArgumentException("unknown model '" + name + "' (raw, mixed5, mixed7, mixed10, finetuned, v<N>)");
      }
    };
  }

  /**
   * Checks, without loading anything, that {@code name} is a known model whose version directory
   * holds a {@code saved_model.pb}; empty when it does, else why not. A missing version otherwise
   * surfaces only when the evaluation reaches that model, after every model before it was embedded.
   */
  public Optional<String> problem(String name) {
    long version;
    try {
      version = switch (name) {
        case "raw" -> 0;
        case "mixed5", "mixed7", "mixed10" -> baselineVersion;
        case "finetuned" -> finetunedVersion();
        default -> {
          if (name.matches("v[1-9][0-9]*")) {
            yield Long.parseLong(name.substring(1));
          }
          yield -1;
        }
      };
    } catch (IOException e) {
      return Optional.of(name + ": " + e.getMessage());
    }
    if (version < 0) {
      return Optional.of("unknown model '" + name + "' (raw, mixed5, mixed7, mixed10, finetuned, v<N>)");
    }
    if (version > 0 && !Files.isRegularFile(base.resolve(Long.toString(version)).resolve("saved_model.pb"))) {
      return Optional.of(name + ": no saved_model.pb in " + base.resolve(Long.toString(version)));
    }
    return Optional.empty();
  }

  private Embedder savedModel(String name, long version, String signature) throws IOException {
    return SavedModelEmbedder.load(name, base.resolve(Long.toString(version)), signature);
  }

  private long finetunedVersion() throws IOException {
    if (finetunedVersion.isPresent()) {
      return finetunedVersion.getAsLong();
    }
    if (!Files.isDirectory(base)) {
      throw new IOException("no model base directory " + base);
    }
    try (Stream<Path> versions = Files.list(base)) {
      return versions
          .map(p -> p.getFileName().toString())
          .filter(v -> v.matches("[1-9][0-9]*"))
          .mapToLong(Long::parseLong)
          .filter(v -> v > baselineVersion && Files.exists(base.resolve(Long.toString(v)).resolve("saved_model.pb")))
          .max()
          .orElseThrow(() -> new IOException("no fine-tuned version above " + baselineVersion + " in " + base
              + "; run FineTuneMain first or pass --finetuned-version"));
    }
  }
}
