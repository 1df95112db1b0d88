package io.visualsearch.evaluation;

import io.visualsearch.defaultmodel.DefaultModelSignatures;
import io.visualsearch.defaultmodel.DefaultModelRunner;
import io.visualsearch.defaultmodel.ImageBatch;
import io.visualsearch.samplecatalog.FashionMnist;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fine-tunes the embedding on the retailer's own catalog (Fashion-MNIST's training images only)
 * and publishes it as a new SavedModel version that the model server picks up.
 *
 * <pre>
 * --base-path DIR          TensorFlow Serving base directory of model "default"
 *                          (default default-model/target/models/default)
 * --baseline-version N     the version whose frozen backbone is tuned on (default 1)
 * --version N              the version to publish (default: one above the newest in the base path);
 *                          an existing version is never replaced
 * --out DIR                training report directory (default data/eval/finetune)
 * --cache DIR              feature cache shared with the evaluation (default data/eval/cache)
 * --catalog-tenant T       train on retailer T's live catalog instead of Fashion-MNIST's files:
 *                          categories from its product events (catalog.products), pictures from
 *                          the copies image-indexer stored (images.ready); Kafka and object store
 *                          from the services' environment (KAFKA_BOOTSTRAP_SERVERS, S3_*)
 * --train N                training images used (default all)
 * --validation N           of which held out for model selection (default 5,000, at most 1/10)
 * --views N                fit images with an altered shopper-photo view (default 15,000)
 * --validation-probes N    validation images altered to measure exact-item recall (default 1,000)
 * --inputs grid|pixels|grid+pixels   what the head reads (default grid+pixels)
 * --epochs N (12) --batch N --hidden N (1024) --dim N (128) --instance-dim N (64; 0 = one shared face)
 * --temperature T --instance-weight W (0.5) --label-smoothing E (0.1) --learning-rate R
 * --blends a,b,...         pretrained-embedding shares tried at selection (default 0)
 * --instance-shares a,b,.. instance-face shares tried at selection (default 0,0.005,0.01,0.02)
 * --posterior-temperatures a,b,..  category part shipped as the face (0) or as its posterior over
 *                          the category proxies at these temperatures (default 0.01,0.02)
 * --select-tolerance D     validation mAP within D of the best counts as a tie, broken by
 *                          exact-item recall@1 (default 0.01, about the standard error of mAP
 *                          over 1,000 validation queries)
 * --select-every N         measure every N epochs and at the end (default 4)
 * --publish 0             train and select only; publish nothing
 * --seed N                 (default 7)
 * --extract-only 1         stop after computing the backbone features
 * </pre>
 */
public final class FineTuneMain {

  private static final Logger log = LoggerFactory.getLogger(FineTuneMain.class);
  private static final int VALIDATION_QUERIES = 1000;
  private static final int PARITY_IMAGES = 96;
  private static final double PARITY_TOLERANCE = 1e-4;

  private FineTuneMain() {}

  public static void main(String[] args) throws Exception {
    run(args, System.getenv());
  }

  /** What {@link #main} does, with the environment given (where {@code --catalog-tenant} finds Kafka and the object store). */
  public static void run(String[] args, Map<String, String> env) throws Exception {
    CommandLine cli = CommandLine.parse(args, List.of("base-path", "baseline-version", "version", "out", "cache", "data",
        "train", "validation", "views", "validation-probes", "seed", "epochs", "batch", "pair-batch", "hidden", "dim",
        "temperature", "instance-temperature", "instance-weight", "dropout", "learning-rate", "blends", "select-every",
        "extract-only", "publish", "inputs", "instance-dim", "label-smoothing", "instance-shares", "select-tolerance",
        "posterior-temperatures", "catalog-tenant"));
    Path base = Path.of(cli.get("base-path", "default-model/target/models/default"));
    long baselineVersion = cli.getLong("baseline-version", 1);
    long version = cli.has("version") ? cli.getLong("version", 0) : nextVersion(base, baselineVersion);
    if (cli.getLong("publish", 1) != 0 && Files.exists(base.resolve(Long.toString(version)))) {
      // Vectors already embedded under that number would then sit beside vectors of another model.
      throw new IllegalArgumentException("version " + version + " already exists in " + base
          + "; a published version is never replaced. Choose another --version, or leave it out for the next free one");
    }
    long seed = cli.getLong("seed", 7);
    Path out = Path.of(cli.get("out", "data/eval/finetune"));
    FeatureCache cache = new FeatureCache(Path.of(cli.get("cache", "data/eval/cache")));
    HeadConfig config = new HeadConfig(
        (int) cli.getLong("hidden", 1024), (int) cli.getLong("dim", 128), (int) cli.getLong("instance-dim", 64),
        (float) cli.getDouble("temperature", 0.05), (float) cli.getDouble("instance-temperature", 0.1),
        (float) cli.getDouble("instance-weight", 0.5), (float) cli.getDouble("label-smoothing", 0.1),
        (float) cli.getDouble("dropout", 0.25),
        (float) cli.getDouble("learning-rate", 1e-3), (int) cli.getLong("epochs", 12),
        (int) cli.getLong("batch", 256), (int) cli.getLong("pair-batch", 128), seed);
    String inputs = cli.get("inputs", "grid+pixels");
    boolean useGrid = inputs.contains("grid");
    boolean usePixels = inputs.contains("pixels");
    if (!useGrid && !usePixels) {
      throw new IllegalArgumentException("--inputs must be grid, pixels or grid+pixels, got " + inputs);
    }
    float[] blends = useGrid ? parseShares(cli.get("blends", "0")) : new float[] {0};
    float[] instanceShares = config.instanceDim() > 0 ? parseShares(cli.get("instance-shares", "0,0.005,0.01,0.02"))
        : new float[] {0};
    float[] posteriorTemperatures = parseShares(cli.get("posterior-temperatures", "0.01,0.02"));
    double selectTolerance = cli.getDouble("select-tolerance", 0.01);
    int selectEvery = (int) cli.getLong("select-every", 4);

    TrainingSource source = cli.has("catalog-tenant") ? TrainingSource.catalog(cli.get("catalog-tenant", ""), env)
        : TrainingSource.fashionMnist(Path.of(cli.get("data", FashionMnist.DEBIAN_DIR.toString())));
    LabeledImages train = source.images();
    int use = (int) cli.getLong("train", train.count());
    TrainingSplit split = TrainingSplit.draw(train.count(), use,
        (int) cli.getLong("validation", Math.min(5000, Math.max(1, use / 10))), (int) cli.getLong("views", 15000),
        (int) cli.getLong("validation-probes", 1000), seed);
    log.info("training on {}: {} images in {} categories", source.description(), train.count(), source.categories().size());
    ShopperPhotoAlteration views = new ShopperPhotoAlteration(seed + 1000);
    log.info("training split: {} images used, {} fit, {} validation, {} fit views, {} validation probes",
        split.used().length, split.fit().length, split.validation().length, split.viewed().length,
        split.validationProbes().length);

    Path baselineDir = base.resolve(Long.toString(baselineVersion));
    TrainingData backboneData = null;
    if (useGrid || cli.has("extract-only")) {
      try (BackboneFeatures backbone = BackboneFeatures.load(baselineDir)) {
        backboneData = TrainingData.extract(backbone, cache, source.cacheSet(), train, split, views);
      }
    }
    if (cli.has("extract-only")) {
      return;
    }
    int pixels = usePixels ? PixelBranch.PIXELS : 0;
    TrainingData data = !usePixels ? backboneData
        : useGrid ? backboneData.withPixels(TrainingData.pixels(train, split, views)) : TrainingData.pixels(train, split, views);
    int headInputs = data.clean().grid().dim();
    log.info("head input: {} ({} columns, {} of them pixels)", inputs, headInputs, pixels);

    ValidationProtocol validation = new ValidationProtocol(data, source.categories().size(), VALIDATION_QUERIES, seed + 5);
    List<ValidationResult> history = new ArrayList<>();
    ValidationResult pretrained = null;
    if (useGrid) {
      pretrained = validation.measure(0, 1, data.clean().embedding(), data.probes().embedding());
      log.info("validation, pretrained mixed5: mAP={} P@10={} recall1_exact={}", f(pretrained.meanAveragePrecision()),
          f(pretrained.precisionAt10()), f(pretrained.exactItemRecallAt1()));
    }

    FeatureStandardisation standardisation = FeatureStandardisation.of(data.clean().grid(), split.fit(), pixels);
    List<ProjectionHead> snapshots = new ArrayList<>();
    List<Integer> snapshotOf = new ArrayList<>();
    long start = System.nanoTime();
    try (HeadTrainer trainer = new HeadTrainer(config, headInputs, pixels, source.categories().size(),
        standardisation.mean(), standardisation.invStd())) {
      Random order = new Random(seed + 3);
      for (int epoch = 0; epoch < config.epochs(); epoch++) {
        double[] losses = trainer.epoch(data, epoch, order);
        log.info("epoch {}/{}: category loss {} instance loss {} ({} s elapsed)", epoch + 1, config.epochs(),
            f(losses[0]), f(losses[1]), String.format("%.0f", (System.nanoTime() - start) / 1e9));
        boolean last = epoch + 1 == config.epochs();
        if ((epoch + 1) % selectEvery != 0 && !last) {
          continue;
        }
        HeadTrainer.Embedded headAll = trainer.embedFaces(data.clean().grid());
        HeadTrainer.Embedded headProbes = trainer.embedFaces(data.probes().grid());
        ProjectionHead snapshot = trainer.snapshot(0, 0);
        snapshots.add(snapshot);
        for (float posteriorTemperature : posteriorTemperatures) {
          Features categoryAll = posteriorTemperature > 0
              ? ValidationProtocol.posterior(headAll.category(), snapshot.proxies(), posteriorTemperature) : headAll.category();
          Features categoryProbes = posteriorTemperature > 0
              ? ValidationProtocol.posterior(headProbes.category(), snapshot.proxies(), posteriorTemperature) : headProbes.category();
          for (float blend : blends) {
            for (float share : instanceShares) {
              ValidationResult result = validation.measure(epoch + 1, posteriorTemperature, blend, share,
                  ValidationProtocol.compose(data.clean().embedding(), categoryAll, headAll.instance(), blend, share),
                  ValidationProtocol.compose(data.probes().embedding(), categoryProbes, headProbes.instance(), blend, share));
              history.add(result);
              snapshotOf.add(snapshots.size() - 1);
              log.info("validation epoch {} posterior {} blend {} instance share {}: mAP={} P@10={} recall1_exact={}",
                  epoch + 1, posteriorTemperature, blend, share, f(result.meanAveragePrecision()),
                  f(result.precisionAt10()), f(result.exactItemRecallAt1()));
            }
          }
        }
      }
    }
    int chosen = ValidationResult.select(history, selectTolerance);
    ValidationResult best = history.get(chosen);
    ProjectionHead bestHead = snapshots.get(snapshotOf.get(chosen))
        .withComposition(best.posteriorTemperature(), best.blend(), best.instanceShare());
    log.info("selected epoch {} posterior {} blend {} instance share {} (validation mAP={} P@10={} recall1_exact={})",
        best.epoch(), best.posteriorTemperature(), best.blend(), best.instanceShare(), f(best.meanAveragePrecision()), f(best.precisionAt10()),
        f(best.exactItemRecallAt1()));

    ProjectionHead head = bestHead;
    if (cli.getLong("publish", 1) == 0) {
      Path report = writeReport(out, args, source, config, inputs, split, pretrained, history, best, selectTolerance, null, head);
      System.out.println("training_report=" + report.toAbsolutePath());
      System.out.printf(Locale.ROOT, "validation_mAP=%.4f validation_P@10=%.4f validation_recall1_exact=%.4f%n",
          best.meanAveragePrecision(), best.precisionAt10(), best.exactItemRecallAt1());
      return;
    }
    Features shipped = shippedEmbedding(head, data);
    int[] parityRows = Arrays.copyOf(split.fit(), Math.min(PARITY_IMAGES, split.fit().length));
    Path published = new FineTunedModelExporter().export(baselineDir, head, base, version,
        staged -> checkParity(staged, train.select(split.trainIndices(parityRows)), shipped.select(parityRows)));
    if (source.isFashionMnist()) {
      seedCatalogCache(cache, published, split, train.count(), shipped);
    }
    Path report = writeReport(out, args, source, config, inputs, split, pretrained, history, best, selectTolerance, published, head);
    System.out.println("published=" + published.toAbsolutePath());
    System.out.println("training_report=" + report.toAbsolutePath());
    System.out.printf(Locale.ROOT, "validation_mAP=%.4f validation_P@10=%.4f validation_recall1_exact=%.4f%n",
        best.meanAveragePrecision(), best.precisionAt10(), best.exactItemRecallAt1());
  }

  /**
   * The version published when {@code --version} is not given: one above every version under
   * {@code base} and above the baseline.
   */
  static long nextVersion(Path base, long baselineVersion) throws IOException {
    return Math.max(baselineVersion, newestVersion(base)) + 1;
  }

  /** The highest numbered version directory under {@code base}, or 0. */
  static long newestVersion(Path base) throws IOException {
    if (!Files.isDirectory(base)) {
      return 0;
    }
    try (java.util.stream.Stream<Path> dirs = Files.list(base)) {
      return dirs.map(p -> p.getFileName().toString()).filter(n -> n.matches("\\d{1,18}"))
          .mapToLong(Long::parseLong).max().orElse(0);
    }
  }

  /** The exported model's embedding of every used training image, computed from the cached backbone features. */
  private static Features shippedEmbedding(ProjectionHead head, TrainingData data) {
    try (HeadInference inference = new HeadInference(head)) {
      return inference.embed(data.clean().embedding(), data.clean().grid());
    }
  }

  /**
   * The staged SavedModel, run from pixels, must reproduce the embeddings computed from the cached
   * backbone features — proof that the served graph is the trained one.
   */
  private static void checkParity(Path staged, LabeledImages images, Features expected) throws IOException {
    float[][] served;
    try (DefaultModelRunner runner = DefaultModelRunner.load(staged)) {
      byte[] rgb = new byte[images.pixels().length * 3];
      for (int p = 0; p < images.pixels().length; p++) {
        rgb[3 * p] = rgb[3 * p + 1] = rgb[3 * p + 2] = images.pixels()[p];
      }
      served = runner.run(DefaultModelSignatures.SERVING_DEFAULT, new ImageBatch(rgb, images.count(), images.height(), images.width()));
    }
    double worst = 0;
    for (int i = 0; i < served.length; i++) {
      if (served[i].length != expected.dim()) {
        throw new IOException("exported model returns " + served[i].length + " dimensions, expected " + expected.dim());
      }
      for (int j = 0; j < expected.dim(); j++) {
        worst = Math.max(worst, Math.abs(served[i][j] - expected.rows()[i * expected.dim() + j]));
      }
    }
    log.info("parity of the exported model on {} images: max |difference| = {}", served.length, String.format("%.2e", worst));
    if (!(worst <= PARITY_TOLERANCE)) {
      throw new IOException("exported model differs from the trained head by " + worst + " (> " + PARITY_TOLERANCE + ")");
    }
  }

  /**
   * The catalog's embeddings under the published model are already known (parity-checked above);
   * storing them where the evaluation looks saves re-embedding 60,000 images. Only for the whole
   * split, the key the evaluation reads.
   */
  private static void seedCatalogCache(FeatureCache cache, Path published, TrainingSplit split, int trainCount, Features shipped)
      throws IOException {
    if (split.used().length != trainCount) {
      return;
    }
    String fingerprint = ModelDigest.of(published) + "-" + DefaultModelSignatures.SERVING_DEFAULT;
    cache.store(fingerprint, "train-all", shipped);
    log.info("stored the catalog's embeddings under {} for the evaluation", fingerprint);
  }

  private static Path writeReport(Path out, String[] args, TrainingSource source, HeadConfig config, String inputs, TrainingSplit split,
      ValidationResult pretrained, List<ValidationResult> history, ValidationResult best, double selectTolerance,
      Path published, ProjectionHead head) throws IOException {
    Files.createDirectories(out);
    StringBuilder md = new StringBuilder("# Fine-tuning run\n\n");
    md.append("Command: `FineTuneMain ").append(String.join(" ", args)).append("`\n\n");
    md.append("Training data: ").append(source.description()).append("; categories: ")
        .append(String.join(", ", source.categories())).append("\n\n");
    md.append(String.format(Locale.ROOT, "Training images used: %d (fit %d, validation %d, fit views %d, validation probes %d); "
        + "test split never read.%n%n", split.used().length, split.fit().length, split.validation().length,
        split.viewed().length, split.validationProbes().length));
    md.append("Head input: `").append(inputs).append("`. Config: `").append(config).append("`\n\n");
    md.append("Validation: up to ").append(VALIDATION_QUERIES).append(" validation images query the fit images (mAP, P@10); "
        + "altered validation images must find themselves among all used images (exact-item recall@1).\n\n");
    md.append("| epoch | posterior t | blend | instance share | val mAP | val P@10 | val exact-item recall@1 |\n"
        + "|---|---|---|---|---|---|---|\n");
    if (pretrained != null) {
      md.append(String.format(Locale.ROOT, "| pretrained mixed5 | - | - | - | %.4f | %.4f | %.4f |%n",
          pretrained.meanAveragePrecision(), pretrained.precisionAt10(), pretrained.exactItemRecallAt1()));
    }
    for (ValidationResult r : history) {
      md.append(String.format(Locale.ROOT, "| %d | %.3f | %.2f | %.3f | %.4f | %.4f | %.4f |%n", r.epoch(),
          r.posteriorTemperature(), r.blend(), r.instanceShare(), r.meanAveragePrecision(), r.precisionAt10(), r.exactItemRecallAt1()));
    }
    md.append(String.format(Locale.ROOT, "%nSelected (best mAP; within %.3f of it, best exact-item recall@1): epoch %d, "
        + "posterior t %.3f, blend %.2f, instance share %.3f. %s (embedding width %d).%n", selectTolerance, best.epoch(),
        best.posteriorTemperature(), best.blend(),
        best.instanceShare(),
        published == null ? "Not published (--publish 0)" : "Published " + published.toAbsolutePath(), head.outputDim()));
    Path report = out.resolve("training.md");
    Files.writeString(report, md.toString(), StandardCharsets.UTF_8);
    return report;
  }

  private static float[] parseShares(String text) {
    String[] parts = text.split(",");
    float[] out = new float[parts.length];
    for (int i = 0; i < parts.length; i++) {
      out[i] = Float.parseFloat(parts[i].trim());
      if (!(out[i] >= 0 && out[i] < 1)) {
        throw new IllegalArgumentException("shares must be in [0, 1), got " + parts[i]);
      }
    }
    return out;
  }

  private static String f(double v) {
    return String.format(Locale.ROOT, "%.4f", v);
  }
}
