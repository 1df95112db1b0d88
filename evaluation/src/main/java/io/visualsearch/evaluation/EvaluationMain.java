package io.visualsearch.evaluation;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
 * The last lines are {@code model=<name> mAP=<x> P@10=<y> qps=<z> recall1_exact=<r>}, one per model.
 */
public final class EvaluationMain {

  private static final Logger log = LoggerFactory.getLogger(EvaluationMain.class);

  private EvaluationMain() {}

  public static void main(String[] args) throws Exception {
    CommandLine cli = CommandLine.parse(args, List.of("out", "cache", "gallery", "queries", "exact", "models", "model-base",
        "baseline-version", "finetuned-version", "data", "seed"));
    Path out = Path.of(cli.get("out", "data/eval"));
    long seed = cli.getLong("seed", 42);
    List<String> models = cli.has("models")
        ? Arrays.stream(cli.get("models", "").split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList()
        : ModelRegistry.DEFAULT_MODELS;
    ModelRegistry registry = new ModelRegistry(
        Path.of(cli.get("model-base", "default-model/target/models/default")),
        cli.getLong("baseline-version", 1),
        cli.has("finetuned-version") ? OptionalLong.of(cli.getLong("finetuned-version", 0)) : OptionalLong.empty());

    FashionMnist data = new FashionMnist(Path.of(cli.get("data", FashionMnist.DEBIAN_DIR.toString())));
    LabeledImages train = data.read(FashionMnist.Split.TRAIN);
    LabeledImages test = data.read(FashionMnist.Split.TEST);
    EvaluationCatalog catalog = EvaluationCatalog.draw(train, test,
        (int) cli.getLong("gallery", train.count()), (int) cli.getLong("queries", test.count()),
        (int) cli.getLong("exact", 2000), seed);
    // The alteration seed is derived from, but distinct from, the seeds fine-tuning draws its views from.
    ShopperPhotoAlteration alteration = new ShopperPhotoAlteration(seed);
    ModelEvaluator evaluator = new ModelEvaluator(catalog, new FeatureCache(Path.of(cli.get("cache", "data/eval/cache"))), alteration,
        FashionMnist.CATEGORIES.size());

    List<ModelEvaluation> results = new ArrayList<>();
    for (String name : models) {
      log.info("evaluating {} ({} gallery, {} queries, {} exact-item probes)", name, catalog.galleryIndices().length,
          catalog.queryIndices().length, catalog.exactItems().length);
      try (Embedder embedder = registry.open(name, train.height(), train.width())) {
        ModelEvaluation result = evaluator.evaluate(embedder);
        log.info(result.summaryLine());
        results.add(result);
      }
    }
    Path report = new EvaluationReport(out).write(results, catalog,
        "EvaluationMain " + String.join(" ", args), alteration.fingerprint());
    System.out.println("report=" + report.toAbsolutePath());
    for (ModelEvaluation result : results) {
      System.out.println(result.summaryLine());
    }
  }
}
