package io.visualsearch.samplecatalog;

import java.io.IOException;
import java.io.Writer;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * {@code SampleCatalogMain --size N --tenant T --base-url URL --out feed.tsv [--dataset DIR] [--serve]}
 *
 * <p>Writes the sample Merchant TSV feed. With {@code --serve} it then serves the images on the
 * base URL's port (127.0.0.1) until interrupted.
 */
public final class SampleCatalogMain {

  private SampleCatalogMain() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> options;
    try {
      options = parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.err.println("usage: SampleCatalogMain --size N --tenant T --base-url URL --out feed.tsv"
          + " [--dataset DIR] [--serve]");
      System.exit(2);
      return;
    }
    FashionMnist dataset = new FashionMnist(Path.of(options.getOrDefault("dataset", FashionMnist.DEBIAN_DIR.toString())));
    if (!dataset.isAvailable()) {
      System.err.println("Fashion-MNIST not found in " + options.getOrDefault("dataset", FashionMnist.DEBIAN_DIR.toString())
          + ": apt-get install dataset-fashion-mnist");
      System.exit(1);
    }
    int size = Integer.parseInt(options.get("size"));
    String baseUrl = options.get("base-url");
    Path out = Path.of(options.get("out"));
    writeFeed(dataset, size, options.get("tenant"), baseUrl, out);
    System.out.println("feed=" + out.toAbsolutePath() + " products=" + size);
    if (options.containsKey("serve")) {
      int port = URI.create(baseUrl).getPort();
      SampleImageServer server = new SampleImageServer(dataset, Math.max(port, 0));
      server.start();
      System.out.println("serving images at " + server.baseUrl() + "/images/<index>.png");
      CountDownLatch stop = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        server.close();
        stop.countDown();
      }));
      stop.await();
    }
  }

  static void writeFeed(FashionMnist dataset, int size, String tenant, String baseUrl, Path out) throws IOException {
    Path parent = out.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Path partial = out.resolveSibling(out.getFileName() + ".partial");
    try (Writer writer = Files.newBufferedWriter(partial, StandardCharsets.UTF_8)) {
      new MerchantFeedWriter(tenant, baseUrl).write(dataset.train(), size, writer);
    }
    // A reader never sees a half-written feed.
    Files.move(partial, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  static Map<String, String> parse(String[] args) {
    Map<String, String> options = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument " + arg);
      }
      String key = arg.substring(2);
      if (key.equals("serve")) {
        options.put(key, "true");
      } else if (i + 1 < args.length) {
        options.put(key, args[++i]);
      } else {
        throw new IllegalArgumentException("missing value for " + arg);
      }
    }
    for (String required : new String[] {"size", "tenant", "base-url", "out"}) {
      if (!options.containsKey(required)) {
        throw new IllegalArgumentException("missing --" + required);
      }
    }
    return options;
  }
}
