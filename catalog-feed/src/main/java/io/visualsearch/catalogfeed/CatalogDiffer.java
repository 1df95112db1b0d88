package io.visualsearch.catalogfeed;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Compares a new feed with the previous {@link CatalogSnapshot}. Two passes over a re-readable
 * {@link FeedSource}: the first validates everything, hashes every product and decides upserts,
 * deletes and the deletion guard without keeping products in memory; only a feed that passes
 * is then streamed again by {@link CatalogDiff#emitUpserts} — so a refused feed never publishes
 * a single record, and memory stays at one hash per product id.
 */
public final class CatalogDiffer {

  private final FeedOptions options;
  private final DeletionGuard guard;
  private final ProductHasher hasher = new ProductHasher();

  public CatalogDiffer(FeedOptions options, DeletionGuard guard) {
    this.options = options;
    this.guard = guard;
  }

  /**
   * First pass.
   *
   * @throws FeedRefusedException when the feed is unusable as a whole or trips the deletion guard
   */
  public CatalogDiff diff(CatalogSnapshot previous, FeedSource source) throws IOException, FeedRefusedException {
    return diff(previous, source, ProductCheck.NONE);
  }

  /**
   * First pass, with a further limit on products ({@link ProductCheck}): a product it refuses is a
   * row error, so it is not upserted and, if it was in the catalog, is deleted, like any invalid row.
   *
   * @throws FeedRefusedException when the feed is unusable as a whole or trips the deletion guard
   */
  public CatalogDiff diff(CatalogSnapshot previous, FeedSource source, ProductCheck check)
      throws IOException, FeedRefusedException {
    return diff(previous, PendingIds.empty(), source, check);
  }

  /**
   * First pass after a sync that may have published {@code pending} without saving its snapshot:
   * for those ids the snapshot is not what the topic holds, so each is sent again whatever the
   * snapshot says — upserted if the feed has it, else tombstoned. They count as catalog products
   * for the deletion guard (the topic may hold them).
   *
   * @throws FeedRefusedException when the feed is unusable as a whole or trips the deletion guard
   */
  public CatalogDiff diff(CatalogSnapshot previous, PendingIds pending, FeedSource source, ProductCheck check)
      throws IOException, FeedRefusedException {
    HashMap<String, Long> next = new HashMap<>();
    Set<String> upserts = new HashSet<>();
    List<RowError> errors = new ArrayList<>();
    long[] unchanged = {0};
    long[] reconciled = {0};
    FeedSink sink = new FeedSink() {
      @Override
      public void product(Product product, long line) {
        long hash = hasher.hash(product);
        next.put(product.id(), hash);
        Long before = previous.hash(product.id());
        if (before == null || before != hash) {
          upserts.add(product.id());
        } else if (pending.contains(product.id())) {
          upserts.add(product.id());
          reconciled[0]++;
        } else {
          unchanged[0]++;
        }
      }

      @Override
      public void rowError(RowError error) {
        if (errors.size() < options.maxErrorsKept()) {
          errors.add(error);
        }
      }
    };
    FeedSummary summary;
    try (InputStream in = source.open()) {
      summary = new FeedParser(options, check).parse(in, sink);
    }
    List<String> deletes = new ArrayList<>();
    for (String id : previous.ids()) {
      if (!next.containsKey(id)) {
        deletes.add(id);
      }
    }
    long catalogSize = previous.size();
    for (String id : pending.newIds()) {
      if (!previous.contains(id)) {
        catalogSize++;
        if (!next.containsKey(id)) {
          deletes.add(id);
          reconciled[0]++;
        }
      }
    }
    deletes.sort(null);
    guard.check(catalogSize, deletes.size());
    return new CatalogDiff(this, source, check, summary, errors, previous, Set.copyOf(upserts), List.copyOf(deletes),
        unchanged[0], reconciled[0], CatalogSnapshot.adopt(next));
  }

  /**
   * Second pass: streams the products planned as upserts, checking they did not change, and every
   * rejected row (the first pass keeps only {@link FeedOptions#maxErrorsKept()} of them).
   */
  long emit(FeedSource source, CatalogDiff diff, Consumer<Product> consumer, Consumer<RowError> rejected)
      throws IOException, FeedRefusedException {
    long[] emitted = {0};
    Map<String, String> changed = new HashMap<>();
    FeedSink sink = new FeedSink() {
      @Override
      public void product(Product product, long line) {
        if (!diff.upsertIds().contains(product.id())) {
          return;
        }
        Long planned = diff.next().hash(product.id());
        if (planned == null || planned != hasher.hash(product)) {
          changed.putIfAbsent("id", product.id());
          return;
        }
        consumer.accept(product);
        emitted[0]++;
      }

      @Override
      public void rowError(RowError error) {
        rejected.accept(error);
      }
    };
    try (InputStream in = source.open()) {
      // The same check as the first pass: it decides which of two rows of one id is the valid one.
      new FeedParser(options, diff.check()).parse(in, sink);
    }
    if (!changed.isEmpty() || emitted[0] != diff.upsertIds().size()) {
      throw new FeedRefusedException(FeedRefusedException.Reason.SOURCE_CHANGED,
          "the feed changed between the two passes (emitted " + emitted[0] + " of "
              + diff.upsertIds().size() + " planned upserts); spool the feed before diffing");
    }
    return emitted[0];
  }
}
