package io.visualsearch.catalogfeed;

import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The plan for applying one feed: which ids to upsert (new or changed), which to delete (gone
 * from the feed, including rows rejected this time), how many are unchanged, and the snapshot
 * to persist once the plan is applied. Rows with errors are listed (up to the configured cap;
 * {@link FeedSummary#rejected()} counts all).
 */
public final class CatalogDiff {

  private final CatalogDiffer differ;
  private final FeedSource source;
  private final ProductCheck check;
  private final FeedSummary summary;
  private final List<RowError> errors;
  private final Set<String> upsertIds;
  private final List<String> deletes;
  private final long unchanged;
  private final CatalogSnapshot next;

  CatalogDiff(CatalogDiffer differ, FeedSource source, ProductCheck check, FeedSummary summary,
      List<RowError> errors, Set<String> upsertIds, List<String> deletes, long unchanged, CatalogSnapshot next) {
    this.differ = differ;
    this.source = source;
    this.check = check;
    this.summary = summary;
    this.errors = List.copyOf(errors);
    this.upsertIds = upsertIds;
    this.deletes = deletes;
    this.unchanged = unchanged;
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
    return differ.emit(source, this, consumer);
  }
}
