package io.visualsearch.cluster;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * The soak report as a picture: p99 latency and search-api RSS per sample, one panel each, on
 * axes starting at zero so a flat curve looks flat and a drift looks like one. Drawn with Java2D
 * (JFreeChart is not in the local Maven repository).
 */
public final class SoakPlot {

  private static final int WIDTH = 900;
  private static final int PANEL = 300;
  private static final int MARGIN = 60;

  private SoakPlot() {}

  public static void write(Path png, List<Double> minutes, List<Double> p99Millis, List<Double> rssMegabytes)
      throws IOException {
    System.setProperty("java.awt.headless", "true");
    BufferedImage img = new BufferedImage(WIDTH, 2 * PANEL + MARGIN, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, img.getWidth(), img.getHeight());
    panel(g, 0, "search p99 latency (ms)", minutes, p99Millis, new Color(0xC0392B));
    panel(g, PANEL, "search-api RSS (MB)", minutes, rssMegabytes, new Color(0x2471A3));
    g.setColor(Color.DARK_GRAY);
    g.drawString("minutes since soak start", WIDTH / 2 - 70, 2 * PANEL + MARGIN / 2 + 5);
    g.dispose();
    Files.createDirectories(png.toAbsolutePath().getParent());
    ImageIO.write(img, "png", png.toFile());
  }

  private static void panel(Graphics2D g, int top, String title, List<Double> xs, List<Double> ys, Color color) {
    int left = MARGIN + 20;
    int right = WIDTH - 20;
    int y0 = top + PANEL - 30;
    int y1 = top + 30;
    double maxX = Math.max(1e-9, xs.stream().mapToDouble(d -> d).max().orElse(1));
    double maxY = Math.max(1e-9, ys.stream().mapToDouble(d -> d).max().orElse(1)) * 1.15;
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
    g.setColor(Color.BLACK);
    g.drawString(title, left, top + 20);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    g.setColor(new Color(0xDDDDDD));
    for (int i = 0; i <= 4; i++) {
      int y = y0 - (y0 - y1) * i / 4;
      g.drawLine(left, y, right, y);
      g.setColor(Color.DARK_GRAY);
      g.drawString(String.format("%.0f", maxY * i / 4), 10, y + 4);
      g.setColor(new Color(0xDDDDDD));
    }
    g.setColor(Color.DARK_GRAY);
    g.drawLine(left, y0, right, y0);
    g.drawLine(left, y0, left, y1);
    for (int i = 0; i <= 5; i++) {
      int x = left + (right - left) * i / 5;
      g.drawString(String.format("%.0f", maxX * i / 5), x - 5, y0 + 15);
    }
    g.setColor(color);
    g.setStroke(new BasicStroke(2f));
    int px = -1;
    int py = -1;
    for (int i = 0; i < xs.size(); i++) {
      int x = left + (int) ((right - left) * xs.get(i) / maxX);
      int y = y0 - (int) ((y0 - y1) * ys.get(i) / maxY);
      g.fillOval(x - 3, y - 3, 6, 6);
      if (px >= 0) {
        g.drawLine(px, py, x, y);
      }
      px = x;
      py = y;
    }
  }
}
