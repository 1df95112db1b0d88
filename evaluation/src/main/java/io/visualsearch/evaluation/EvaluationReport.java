package io.visualsearch.evaluation;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Writes {@code report.md} and its figures into the output directory. */
final class EvaluationReport {

  private static final int EXAMPLE_QUERIES = 8;

  private final Path dir;
  private final ReportCharts charts = new ReportCharts();

  EvaluationReport(Path dir) {
    this.dir = dir;
  }

  Path write(List<ModelEvaluation> models, EvaluationCatalog catalog, String commandLine, String alteration)
      throws IOException {
    Files.createDirectories(dir);
    List<String> categories = FashionMnistSplits.CATEGORIES;
    charts.perCategoryAp(models, categories, dir.resolve("per-category-ap.png"));
    charts.precisionRecall(models, dir.resolve("precision-recall.png"));
    LabeledImages queries = catalog.queryImages();
    LabeledImages gallery = catalog.galleryImages();
    int[] exampleRows = exampleQueries(queries);
    for (ModelEvaluation model : models) {
      charts.examples(model, queries, gallery, exampleRows, dir.resolve("examples-" + model.model() + ".png"));
    }

    StringBuilder md = new StringBuilder();
    md.append("# Relevance evaluation (Fashion-MNIST)\n\n");
    md.append("Command: `").append(commandLine).append("`\n\n");
    md.append(String.format(Locale.ROOT,
        "Gallery: %d training images (the catalog). Queries: %d test images (shopper photos; never indexed or "
            + "trained on). Relevant = same category. mAP over the full ranking of the gallery; QPS = exact "
            + "inner-product (FAISS `Flat`) top-10 search, all queries in one batch, best of 3. Exact-item "
            + "recall@1: %d gallery images altered like shopper photos (`%s`: zoom-crop, shift, rotation, "
            + "light, sensor noise, JPEG) must retrieve their own entry first.%n%n",
        catalog.galleryIndices().length, catalog.queryIndices().length, catalog.exactItems().length, alteration));
    for (ModelEvaluation m : models) {
      md.append("- `").append(m.model()).append("`: ").append(m.description()).append('\n');
    }
    md.append('\n');
    md.append("| model | dim | mAP | P@10 | exact-item recall@1 | QPS (exact) | approximate index | recall@10 vs exact | QPS (approx.) |\n");
    md.append("|---|---|---|---|---|---|---|---|---|\n");
    for (ModelEvaluation m : models) {
      md.append(String.format(Locale.ROOT, "| %s | %d | %.4f | %.4f | %.4f | %.0f | %s | %.4f | %.0f |%n",
          m.model(), m.dimension(), m.ranking().meanAveragePrecision(), m.ranking().precisionAt10(),
          m.exactItemRecallAt1(), m.exactQueriesPerSecond(), m.approximate().description(),
          m.approximate().recallAt10(), m.approximate().queriesPerSecond()));
    }
    md.append("\nReference (literature, full 60k/10k protocol): raw pixels, cosine: mAP 0.479, P@10 0.805.\n\n");
    md.append("## Average precision per category\n\n| category |");
    for (ModelEvaluation m : models) {
      md.append(' ').append(m.model()).append(" |");
    }
    md.append("\n|---|").append("---|".repeat(models.size())).append('\n');
    for (int c = 0; c < categories.size(); c++) {
      md.append("| ").append(categories.get(c)).append(" |");
      for (ModelEvaluation m : models) {
        md.append(String.format(Locale.ROOT, " %.4f |", m.ranking().averagePrecisionPerCategory()[c]));
      }
      md.append('\n');
    }
    md.append("\n![AP per category](per-category-ap.png)\n\n![Precision-recall](precision-recall.png)\n\n");
    md.append("## Example queries\n\n");
    for (ModelEvaluation m : models) {
      md.append("![").append(m.model()).append("](examples-").append(m.model()).append(".png)\n\n");
    }
    md.append("## Machine-readable summary\n\n```\n");
    for (ModelEvaluation m : models) {
      md.append(m.summaryLine()).append('\n');
    }
    md.append("```\n");
    Path report = dir.resolve("report.md");
    Files.writeString(report, md.toString(), StandardCharsets.UTF_8);
    return report;
  }

  /** The first query of each category (then the next ones), so the grid shows every category. */
  private static int[] exampleQueries(LabeledImages queries) {
    int[] rows = new int[Math.min(EXAMPLE_QUERIES, queries.count())];
    boolean[] taken = new boolean[queries.count()];
    boolean[] categorySeen = new boolean[FashionMnistSplits.CATEGORIES.size()];
    int filled = 0;
    for (int q = 0; q < queries.count() && filled < rows.length; q++) {
      if (!categorySeen[queries.labels()[q]]) {
        categorySeen[queries.labels()[q]] = true;
        taken[q] = true;
        rows[filled++] = q;
      }
    }
    for (int q = 0; q < queries.count() && filled < rows.length; q++) {
      if (!taken[q]) {
        rows[filled++] = q;
      }
    }
    return rows;
  }
}
