package io.visualsearch.evaluation;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/** The report's figures, drawn with Java2D into PNG files. */
final class ReportCharts {

  private static final Color[] PALETTE = {
    new Color(0x4e79a7), new Color(0xf28e2b), new Color(0x59a14f), new Color(0xe15759),
    new Color(0x76b7b2), new Color(0xedc948), new Color(0xb07aa1), new Color(0x9c755f)
  };
  private static final Font FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
  private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 14);

  /** Grouped bars: AP of every category, one bar per model. */
  void perCategoryAp(List<ModelEvaluation> models, List<String> categories, Path file) throws IOException {
    int width = 1100;
    int height = 460;
    int left = 60;
    int right = 20;
    int top = 50;
    int bottom = 90;
    BufferedImage image = canvas(width, height);
    Graphics2D g = graphics(image);
    title(g, "Average precision per category (queries of that category)", left);
    int plotW = width - left - right;
    int plotH = height - top - bottom;
    yAxis(g, left, top, plotW, plotH);
    double group = (double) plotW / categories.size();
    double bar = group * 0.8 / Math.max(1, models.size());
    for (int c = 0; c < categories.size(); c++) {
      double x0 = left + c * group + group * 0.1;
      for (int m = 0; m < models.size(); m++) {
        double ap = models.get(m).ranking().averagePrecisionPerCategory()[c];
        int barH = (int) Math.round((Double.isNaN(ap) ? 0 : ap) * plotH);
        g.setColor(PALETTE[m % PALETTE.length]);
        g.fillRect((int) (x0 + m * bar), top + plotH - barH, (int) Math.max(1, bar - 1), barH);
      }
      g.setColor(Color.DARK_GRAY);
      g.setFont(FONT);
      String label = categories.get(c);
      int textW = g.getFontMetrics().stringWidth(label);
      g.drawString(label, (int) (left + c * group + (group - textW) / 2), top + plotH + 16);
    }
    legend(g, models, left, height - 40);
    write(image, g, file);
  }

  /** Interpolated precision against recall, averaged over queries, one line per model. */
  void precisionRecall(List<ModelEvaluation> models, Path file) throws IOException {
    int width = 640;
    int height = 560;
    int left = 60;
    int top = 50;
    int plotW = 540;
    int plotH = 400;
    BufferedImage image = canvas(width, height);
    Graphics2D g = graphics(image);
    title(g, "Precision-recall (interpolated, mean over queries)", left);
    yAxis(g, left, top, plotW, plotH);
    g.setColor(Color.DARK_GRAY);
    g.setFont(FONT);
    for (int i = 0; i <= 10; i += 2) {
      int x = left + plotW * i / 10;
      g.drawString(String.format(Locale.ROOT, "%.1f", i / 10.0), x - 8, top + plotH + 16);
    }
    g.drawString("recall", left + plotW / 2 - 15, top + plotH + 32);
    g.setStroke(new BasicStroke(2f));
    for (int m = 0; m < models.size(); m++) {
      double[] curve = models.get(m).ranking().precisionAtRecallLevels();
      g.setColor(PALETTE[m % PALETTE.length]);
      for (int i = 1; i < curve.length; i++) {
        int x1 = left + plotW * (i - 1) / (curve.length - 1);
        int x2 = left + plotW * i / (curve.length - 1);
        g.drawLine(x1, top + plotH - (int) (curve[i - 1] * plotH), x2, top + plotH - (int) (curve[i] * plotH));
      }
    }
    legend(g, models, left, height - 40);
    write(image, g, file);
  }

  /**
   * A grid of example queries (left column) with their ten best gallery images; a green frame marks
   * a result of the query's category, red one of another.
   */
  void examples(ModelEvaluation model, LabeledImages queries, LabeledImages gallery, int[] queryRows, Path file)
      throws IOException {
    int scale = 2;
    int cell = gallery.width() * scale + 8;
    int columns = 11;
    int header = 30;
    BufferedImage image = canvas(columns * cell + 20, header + queryRows.length * cell + 10);
    Graphics2D g = graphics(image);
    g.setColor(Color.BLACK);
    g.setFont(TITLE);
    g.drawString(model.model() + ": query | top 10 (green = same category)", 10, 20);
    for (int r = 0; r < queryRows.length; r++) {
      int q = queryRows[r];
      int y = header + r * cell;
      drawTile(g, queries, q, 10, y, scale, Color.BLACK);
      int[] top = model.ranking().topTen()[q];
      for (int k = 0; k < top.length; k++) {
        boolean relevant = gallery.labels()[top[k]] == queries.labels()[q];
        drawTile(g, gallery, top[k], 10 + (k + 1) * cell + 6, y, scale, relevant ? new Color(0x2ca02c) : new Color(0xd62728));
      }
    }
    write(image, g, file);
  }

  private static void drawTile(Graphics2D g, LabeledImages images, int index, int x, int y, int scale, Color frame) {
    BufferedImage tile = new BufferedImage(images.width(), images.height(), BufferedImage.TYPE_BYTE_GRAY);
    tile.getRaster().setDataElements(0, 0, images.width(), images.height(), images.image(index));
    g.setColor(frame);
    g.fillRect(x, y, images.width() * scale + 6, images.height() * scale + 6);
    g.drawImage(tile, x + 3, y + 3, images.width() * scale, images.height() * scale, null);
  }

  private static BufferedImage canvas(int width, int height) {
    return new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
  }

  private static Graphics2D graphics(BufferedImage image) {
    Graphics2D g = image.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, image.getWidth(), image.getHeight());
    return g;
  }

  private static void title(Graphics2D g, String text, int left) {
    g.setColor(Color.BLACK);
    g.setFont(TITLE);
    g.drawString(text, left, 28);
  }

  private static void yAxis(Graphics2D g, int left, int top, int plotW, int plotH) {
    g.setFont(FONT);
    for (int i = 0; i <= 10; i += 2) {
      int y = top + plotH - plotH * i / 10;
      g.setColor(new Color(0xdddddd));
      g.drawLine(left, y, left + plotW, y);
      g.setColor(Color.DARK_GRAY);
      g.drawString(String.format(Locale.ROOT, "%.1f", i / 10.0), left - 30, y + 4);
    }
    g.drawLine(left, top, left, top + plotH);
  }

  private static void legend(Graphics2D g, List<ModelEvaluation> models, int left, int y) {
    g.setFont(FONT);
    int x = left;
    for (int m = 0; m < models.size(); m++) {
      g.setColor(PALETTE[m % PALETTE.length]);
      g.fillRect(x, y - 10, 14, 12);
      g.setColor(Color.BLACK);
      String label = String.format(Locale.ROOT, "%s (mAP %.3f)", models.get(m).model(), models.get(m).ranking().meanAveragePrecision());
      g.drawString(label, x + 18, y);
      x += 28 + g.getFontMetrics().stringWidth(label);
    }
  }

  private static void write(BufferedImage image, Graphics2D g, Path file) throws IOException {
    g.dispose();
    if (!ImageIO.write(image, "png", file.toFile())) {
      throw new IOException("no PNG writer for " + file);
    }
  }
}
