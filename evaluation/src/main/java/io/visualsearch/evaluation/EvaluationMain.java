package io.visualsearch.evaluation;

import io.visualsearch.samplecatalog.FashionMnist;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ./visual-search eval}: the Fashion-MNIST retrieval protocol for several models side by side.
 *
 * <pre>
 * --out DIR                report directory (default data/eval)
 * --cache DIR              computed features, reused across runs (default data/eval/cache)
 * --gallery N              gallery size drawn from the 60,000 training images (default all)
 * --queries N              queries drawn from the 10,000 test images (default all)
 * --exact N                altered gallery images for exact-item recall@1 (default 2000)
 * --models a,b,...         raw, mixed5, mixed7, mixed10, finetuned, v&lt;N&gt; (default raw,mixed5,mixed7,finetuned)
 * --model-base DIR         TensorFlow Serving base directory of model "default"
 *                          (default default-model/target/models/default)
 * --baseline-version N     version holding the pretrained cuts (default 1)
 * --finetuned-version N    version evaluated as "finetuned" (default: newest above the baseline)
 * --data DIR               Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)
 * --seed N                 subset draws and photo alterations (default 42)
 * </pre>
 *
 * The last lines are {@code model=<name> mAP=<x> P@10=<y> qps=<z> recall1_exact=<r>}, one per model
 * measured. Exit 2 when an option is bad or a requested model does not exist (checked before any
 * embedding; from the default set a missing {@code finetuned} is left out with a warning); exit 4
 * when a model failed while evaluated: the report still holds every model that was measured.
 */
public final class EvaluationMain {

  private static final Logger log = LoggerFactory.getLogger(EvaluationMain.class);

  private EvaluationMain() {}

  /** Exit code: a bad option, or a requested model that does not exist; nothing was evaluated. */
  static final int BAD_OPTIONS = 2;
  /** Exit code: a model failed while evaluated; the report holds the models that were measured. */
  static final int MODEL_FAILED = 4;

  public static void main(String[] args) throws Exception {
    System.exit(run(args, System.out, System.err));
  }

  /** Runs the evaluation; returns the exit code. */
  static int run(String[] args, PrintStream stdout, PrintStream stderr) throws IOException {
    CommandLine cli;
    List<String> models;
    ModelRegistry registry;
    long seed;
    long galleryCount;
    long queryCount;
    long exactCount;
    try {
      cli = CommandLine.parse(args, List.of("out", "cache", "gallery", "queries", "exact", "models", "model-base",
          "baseline-version", "finetuned-version", "data", "seed"));
      registry = new ModelRegistry(
          Path.of(cli.get("model-base", "default-model/target/models/default")),
          cli.getLong("baseline-version", 1),
          cli.has("finetuned-version") ? OptionalLong.of(cli.getLong("finetuned-version", 0)) : OptionalLong.empty());
      models = cli.has("models")
          ? Arrays.stream(cli.get("models", "").split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList()
          : ModelRegistry.DEFAULT_MODELS;
      seed = cli.getLong("seed", 42);
      galleryCount = cli.getLong("gallery", -1);
      queryCount = cli.getLong("queries", -1);
      exactCount = cli.getLong("exact", 2000);
      models = available(models, !cli.has("models"), registry, stderr);
    } catch (IllegalArgumentException e) {
      stderr.println("eval: " + e.getMessage());
      return BAD_OPTIONS;
    }
    Path out = Path.of(cli.get("out", "data/eval"));

    Path data = Path.of(cli.get("data", FashionMnist.DEBIAN_DIR.toString()));
    LabeledImages train = FashionMnistSplits.train(data);
    LabeledImages test = FashionMnistSplits.test(data);
    EvaluationCatalog catalog = EvaluationCatalog.draw(train, test,
        galleryCount < 0 ? train.count() : (int) galleryCount, queryCount < 0 ? test.count() : (int) queryCount,
        (int) exactCount, seed);
    // The alteration seed is derived from, but distinct from, the seeds fine-tuning draws its views from.
    ShopperPhotoAlteration alteration = new ShopperPhotoAlteration(seed);
    ModelEvaluator evaluator = new ModelEvaluator(catalog, new FeatureCache(Path.of(cli.get("cache", "data/eval/cache"))), alteration,
        FashionMnistSplits.CATEGORIES.size());

    List<ModelEvaluation> results = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    for (String name : models) {
      log.info("evaluating {} ({} gallery, {} queries, {} exact-item probes)", name, catalog.galleryIndices().length,
          catalog.queryIndices().length, catalog.exactItems().length);
      // One model failing (a version that does not load, a missing signature) must not cost the
      // measurements of the others: they can take an hour on the full protocol.
      try (Embedder embedder = registry.open(name, train.height(), train.width())) {
        ModelEvaluation result = evaluator.evaluate(embedder);
        log.info(result.summaryLine());
        results.add(result);
      } catch (Exception e) {
        log.error("evaluating {} failed", name, e);
        failures.add("model=" + name + " failed: " + e);
      }
    }
    if (!results.isEmpty()) {
      Path report = new EvaluationReport(out).write(results, catalog,
          "EvaluationMain " + String.join(" ", args), alteration.fingerprint());
      stdout.println("report=" + report.toAbsolutePath());
    }
    for (ModelEvaluation result : results) {
      stdout.println(result.summaryLine());
    }
    stdout.flush();
    failures.forEach(stderr::println);
    return failures.isEmpty() ? 0 : MODEL_FAILED;
  }

  /**
   * The requested models that can be evaluated, checked before anything is embedded. A missing
   * model the user named is an error; from the default set only {@code finetuned} may be missing
   * (a fresh build ships version 1 alone, before any fine-tuning), and is then left out with a warning.
   */
  static List<String> available(List<String> requested, boolean defaults, ModelRegistry registry, PrintStream stderr) {
    List<String> out = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    for (String name : requested) {
      Optional<String> problem = registry.problem(name);
      if (problem.isEmpty()) {
        out.add(name);
      } else if (defaults && name.equals("finetuned")) {
        stderr.println("eval: warning: leaving out " + problem.get());
      } else {
        problems.add(problem.get());
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("cannot evaluate " + String.join("; ", problems));
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("no model to evaluate");
    }
    return out;
  }
}
