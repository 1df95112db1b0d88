package io.visualsearch.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.visualsearch.samplecatalog.FashionMnist;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The query load's pick of a catalog photo while feed changes remove products. */
class TenantFeedTest {

  @TempDir Path dir;

  @Test
  void aRandomPhotoIsPickedWhileProductsAreRemovedWithoutEverNamingARemovedOne() throws Exception {
    FashionMnist dataset = FashionMnist.debian();
    assumeTrue(dataset.isAvailable(), "Fashion-MNIST (./visual-search setup)");
    // three products, each removed and replaced in turn: a pick races a removal almost every time
    TenantFeed feed = new TenantFeed("a", dir.resolve("feed-a.tsv"), dataset.train(), "http://127.0.0.1:1", 3, 3000);
    AtomicBoolean churning = new AtomicBoolean(true);
    List<Throwable> churnErrors = new ArrayList<>();
    Thread churn = new Thread(() -> {
      try {
        Random random = new Random(1);
        while (true) {
          List<String> skus = feed.skus();
          feed.remove(skus.get(random.nextInt(skus.size())));
          if (feed.addNext() == null) {
            return;
          }
        }
      } catch (Throwable t) {
        churnErrors.add(t);
      } finally {
        churning.set(false);
      }
    });
    churn.start();
    Random random = new Random(2);
    long picks = 0;
    while (churning.get()) {
      int image = feed.randomImage(random);
      assertTrue(image >= 0 && image < 60_000, "a training image: " + image);
      picks++;
    }
    churn.join();
    assertEquals(List.of(), churnErrors);
    assertTrue(picks > 0);
  }
}
