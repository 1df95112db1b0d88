package io.visualsearch.catalogfeed;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The plan for applying one feed: which ids to upsert (new or changed), which to delete (gone
 * from the feed, including rows rejected this time), how many are unchanged, the ids to record as
 * pending before publishing ({@link #pending()}), and the snapshot to persist once the plan is
 * applied. Rows with errors are listed up to the configured cap ({@link FeedSummary#rejected()}
 * counts all; the second pass streams all).
 */
public final class CatalogDiff {

  private final CatalogDiffer differ;
  private final FeedSource source;
  private final ProductCheck check;
  private final FeedSummary summary;
  private final List<RowError> errors;
  private final CatalogSnapshot previous;
  private final Set<String> upsertIds;
  private final List<String> deletes;
  private final long unchanged;
  private final long reconciled;
  private final CatalogSnapshot next;

  CatalogDiff(CatalogDiffer differ, FeedSource source, ProductCheck check, FeedSummary summary,
      List<RowError> errors, CatalogSnapshot previous, Set<String> upsertIds, List<String> deletes, long unchanged,
      long reconciled, CatalogSnapshot next) {
    this.differ = differ;
    this.source = source;
    this.check = check;
    this.summary = summary;
    this.errors = List.copyOf(errors);
    this.previous = previous;
    this.upsertIds = upsertIds;
    this.deletes = deletes;
    this.unchanged = unchanged;
    this.reconciled = reconciled;
    this.next = next;
  }

  ProductCheck check() {
    return check;
  }

  public FeedSummary summary() {
    return summary;
  }

  public List<RowError> errors() {
    return errors;
  }

  public Set<String> upsertIds() {
    return upsertIds;
  }

  /** Ids to tombstone, sorted. */
  public List<String> deletes() {
    return deletes;
  }

  public long unchanged() {
    return unchanged;
  }

  /**
   * Upserts and deletes planned only because an earlier sync may have published them without
   * saving its snapshot (counted in {@link #upsertIds()} and {@link #deletes()} too).
   */
  public long reconciled() {
    return reconciled;
  }

  /**
   * Every id this plan publishes, to record before the first send and drop once {@link #next()} is
   * saved: a sync that ends in between leaves them for the next diff to send again.
   */
  public PendingIds pending() {
    List<String> ids = new ArrayList<>(upsertIds.size() + deletes.size());
    ids.addAll(upsertIds);
    ids.addAll(deletes);
    return PendingIds.of(previous, ids);
  }

  /** The catalog after this feed; persist it only after upserts and deletes were published. */
  public CatalogSnapshot next() {
    return next;
  }

  /**
   * Second pass over the source: hands each upserted product to {@code consumer} in feed order.
   *
   * @return how many products were emitted (always {@code upsertIds().size()})
   * @throws FeedRefusedException SOURCE_CHANGED when the source no longer matches the plan
   */
  public long emitUpserts(Consumer<Product> consumer) throws IOException, FeedRefusedException {
    return emitUpserts(consumer, error -> { });
  }

  /**
   * Second pass over the source: hands each upserted product to {@code consumer} and every rejected
   * row to {@code rejected} (all of them, unlike {@link #errors()}), in feed order, one at a time.
   *
   * @return how many products were emitted (always {@code upsertIds().size()})
   * @throws FeedRefusedException SOURCE_CHANGED when the source no longer matches the plan; what
   *     was handed over until then may already be published (hence {@link #pending()})
   */
  public long emitUpserts(Consumer<Product> consumer, Consumer<RowError> rejected)
      throws IOException, FeedRefusedException {
    return differ.emit(source, this, consumer, rejected);
  }
}
