package io.visualsearch.evaluation;

import io.visualsearch.defaultmodel.DefaultModelSignatures;
import io.visualsearch.defaultmodel.DefaultModelRunner;
import io.visualsearch.defaultmodel.ImageBatch;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
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
 * --version N              the version to publish (default baseline + 1)
 * --out DIR                training report directory (default data/eval/finetune)
 * --cache DIR              feature cache shared with the evaluation (default data/eval/cache)
 * --train N                training images used (default all 60,000)
 * --validation N           of which held out for model selection (default 5,000)
 * --views N                fit images with an altered shopper-photo view (default 15,000)
 * --validation-probes N    validation images altered to measure exact-item recall (default 1,000)
 * --epochs N (9) --batch N --hidden N --dim N --temperature T --instance-weight W (0.1) --learning-rate R
 * --blends a,b,...         pretrained-embedding shares tried at selection (default 0,0.1)
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
    CommandLine cli = CommandLine.parse(args, List.of("base-path", "baseline-version", "version", "out", "cache", "data",
        "train", "validation", "views", "validation-probes", "seed", "epochs", "batch", "pair-batch", "hidden", "dim",
        "temperature", "instance-temperature", "instance-weight", "dropout", "learning-rate", "blends", "select-every",
        "extract-only", "publish"));
    Path base = Path.of(cli.get("base-path", "default-model/target/models/default"));
    long baselineVersion = cli.getLong("baseline-version", 1);
    long version = cli.getLong("version", baselineVersion + 1);
    long seed = cli.getLong("seed", 7);
    Path out = Path.of(cli.get("out", "data/eval/finetune"));
    FeatureCache cache = new FeatureCache(Path.of(cli.get("cache", "data/eval/cache")));
    HeadConfig config = new HeadConfig(
        (int) cli.getLong("hidden", 512), (int) cli.getLong("dim", 128),
        (float) cli.getDouble("temperature", 0.05), (float) cli.getDouble("instance-temperature", 0.1),
        (float) cli.getDouble("instance-weight", 0.1), (float) cli.getDouble("dropout", 0.25),
        (float) cli.getDouble("learning-rate", 1e-3), (int) cli.getLong("epochs", 9),
        (int) cli.getLong("batch", 256), (int) cli.getLong("pair-batch", 128), seed);
    float[] blends = parseBlends(cli.get("blends", "0,0.1"));
    int selectEvery = (int) cli.getLong("select-every", 3);

    LabeledImages train = new FashionMnist(Path.of(cli.get("data", FashionMnist.DEBIAN_DIR.toString())))
        .read(FashionMnist.Split.TRAIN);
    TrainingSplit split = TrainingSplit.draw(train.count(), (int) cli.getLong("train", train.count()),
        (int) cli.getLong("validation", 5000), (int) cli.getLong("views", 15000),
        (int) cli.getLong("validation-probes", 1000), seed);
    ShopperPhotoAlteration views = new ShopperPhotoAlteration(seed + 1000);
    log.info("training split: {} images used, {} fit, {} validation, {} fit views, {} validation probes",
        split.used().length, split.fit().length, split.validation().length, split.viewed().length,
        split.validationProbes().length);

    Path baselineDir = base.resolve(Long.toString(baselineVersion));
    TrainingData data;
    try (BackboneFeatures backbone = BackboneFeatures.load(baselineDir)) {
      data = TrainingData.extract(backbone, cache, train, split, views);
    }
    if (cli.has("extract-only")) {
      return;
    }

    ValidationProtocol validation = new ValidationProtocol(data, VALIDATION_QUERIES, seed + 5);
    List<ValidationResult> history = new ArrayList<>();
    ValidationResult pretrained = validation.measure(0, 1, data.clean().embedding(), data.probes().embedding());
    log.info("validation, pretrained mixed5: mAP={} P@10={} recall1_exact={}", f(pretrained.meanAveragePrecision()),
        f(pretrained.precisionAt10()), f(pretrained.exactItemRecallAt1()));

    FeatureStandardisation standardisation = FeatureStandardisation.of(data.clean().grid(), split.fit());
    ValidationResult best = null;
    ProjectionHead bestHead = null;
    long start = System.nanoTime();
    try (HeadTrainer trainer = new HeadTrainer(config, BackboneGraph.GRID_FEATURES, FashionMnist.CATEGORIES.size(),
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
        Features headAll = trainer.embed(data.clean().grid());
        Features headProbes = trainer.embed(data.probes().grid());
        for (float blend : blends) {
          ValidationResult result = validation.measure(epoch + 1, blend,
              ValidationProtocol.blend(data.clean().embedding(), headAll, blend),
              ValidationProtocol.blend(data.probes().embedding(), headProbes, blend));
          history.add(result);
          log.info("validation epoch {} blend {}: mAP={} P@10={} recall1_exact={}", epoch + 1, blend,
              f(result.meanAveragePrecision()), f(result.precisionAt10()), f(result.exactItemRecallAt1()));
          if (best == null || result.score() > best.score()) {
            best = result;
            bestHead = trainer.snapshot(blend);
          }
        }
      }
    }
    log.info("selected epoch {} blend {} (validation mAP={} recall1_exact={})", best.epoch(), best.blend(),
        f(best.meanAveragePrecision()), f(best.exactItemRecallAt1()));

    ProjectionHead head = bestHead;
    if (cli.getLong("publish", 1) == 0) {
      Path report = writeReport(out, cli, args, config, split, pretrained, history, best, null, head);
      System.out.println("training_report=" + report.toAbsolutePath());
      System.out.printf(Locale.ROOT, "validation_mAP=%.4f validation_P@10=%.4f validation_recall1_exact=%.4f%n",
          best.meanAveragePrecision(), best.precisionAt10(), best.exactItemRecallAt1());
      return;
    }
    Features shipped = shippedEmbedding(head, data);
    int[] parityRows = Arrays.copyOf(split.fit(), Math.min(PARITY_IMAGES, split.fit().length));
    Path published = new FineTunedModelExporter().export(baselineDir, head, base, version,
        staged -> checkParity(staged, train.select(split.trainIndices(parityRows)), shipped.select(parityRows)));
    seedCatalogCache(cache, published, split, train.count(), shipped);
    Path report = writeReport(out, cli, args, config, split, pretrained, history, best, published, head);
    System.out.println("published=" + published.toAbsolutePath());
    System.out.println("training_report=" + report.toAbsolutePath());
    System.out.printf(Locale.ROOT, "validation_mAP=%.4f validation_P@10=%.4f validation_recall1_exact=%.4f%n",
        best.meanAveragePrecision(), best.precisionAt10(), best.exactItemRecallAt1());
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

  private static Path writeReport(Path out, CommandLine cli, String[] args, HeadConfig config, TrainingSplit split,
      ValidationResult pretrained, List<ValidationResult> history, ValidationResult best, Path published,
      ProjectionHead head) throws IOException {
    Files.createDirectories(out);
    StringBuilder md = new StringBuilder("# Fine-tuning run\n\n");
    md.append("Command: `FineTuneMain ").append(String.join(" ", args)).append("`\n\n");
    md.append(String.format(Locale.ROOT, "Training images used: %d (fit %d, validation %d, fit views %d, validation probes %d); "
        + "test split never read.%n%n", split.used().length, split.fit().length, split.validation().length,
        split.viewed().length, split.validationProbes().length));
    md.append("Config: `").append(config).append("`\n\n");
    md.append("Validation: up to ").append(VALIDATION_QUERIES).append(" validation images query the fit images (mAP, P@10); "
        + "altered validation images must find themselves among all used images (exact-item recall@1).\n\n");
    md.append("| epoch | blend | val mAP | val P@10 | val exact-item recall@1 |\n|---|---|---|---|---|\n");
    md.append(String.format(Locale.ROOT, "| pretrained mixed5 | - | %.4f | %.4f | %.4f |%n",
        pretrained.meanAveragePrecision(), pretrained.precisionAt10(), pretrained.exactItemRecallAt1()));
    for (ValidationResult r : history) {
      md.append(String.format(Locale.ROOT, "| %d | %.2f | %.4f | %.4f | %.4f |%n", r.epoch(), r.blend(),
          r.meanAveragePrecision(), r.precisionAt10(), r.exactItemRecallAt1()));
    }
    md.append(String.format(Locale.ROOT, "%nSelected (max mAP + recall@1): epoch %d, blend %.2f. %s "
        + "(embedding width %d).%n", best.epoch(), best.blend(),
        published == null ? "Not published (--publish 0)" : "Published " + published.toAbsolutePath(), head.outputDim()));
    Path report = out.resolve("training.md");
    Files.writeString(report, md.toString(), StandardCharsets.UTF_8);
    return report;
  }

  private static float[] parseBlends(String text) {
    String[] parts = text.split(",");
    float[] out = new float[parts.length];
    for (int i = 0; i < parts.length; i++) {
      out[i] = Float.parseFloat(parts[i].trim());
      if (!(out[i] >= 0 && out[i] < 1)) {
        throw new IllegalArgumentException("blend must be in [0, 1), got " + parts[i]);
      }
    }
    return out;
  }

  private static String f(double v) {
    return String.format(Locale.ROOT, "%.4f", v);
  }
}
