package io.visualsearch.catalogfeed;

import static io.visualsearch.catalogfeed.FeedFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class CatalogDiffTest {

  private final CatalogDiffer differ = new CatalogDiffer(FeedOptions.defaults(), DeletionGuard.defaults());

  private CatalogDiff diff(CatalogSnapshot previous, String feed) throws Exception {
    return differ.diff(previous, FeedSource.of(utf8(feed)));
  }

  @Test
  void firstFeedUpsertsEverythingAndAReplayChangesNothing() throws Exception {
    CatalogDiff first = diff(CatalogSnapshot.empty(), tsvCatalog(20));
    assertEquals(20, first.upsertIds().size());
    assertTrue(first.deletes().isEmpty());
    List<Product> emitted = new ArrayList<>();
    assertEquals(20, first.emitUpserts(emitted::add));
    assertEquals("p-0", emitted.get(0).id(), "feed order");

    CatalogDiff replay = diff(first.next(), tsvCatalog(20));
    assertTrue(replay.upsertIds().isEmpty());
    assertTrue(replay.deletes().isEmpty());
    assertEquals(20, replay.unchanged());
  }

  @Test
  void changedProductsAreUpsertedAndMissingOnesDeleted() throws Exception {
    CatalogSnapshot before = diff(CatalogSnapshot.empty(), tsvCatalog(20)).next();
    String feed = tsvCatalog(20)
        .replace(tsvRow("p-3", "Product 3", "13.00 USD"), tsvRow("p-3", "Product 3", "11.00 USD"))
        .replace(tsvRow("p-4", "Product 4", "14.00 USD"), tsvRow("p-4", "Product   4 ", "14.0 USD"))
        .replace(tsvRow("p-7", "Product 7", "17.00 USD"), "")
        .replace(tsvRow("p-8", "Product 8", "18.00 USD"), tsvRow("p-8", "Product 8", "not a price"))
        + tsvRow("p-new", "Fresh", "1.00 USD");
    CatalogDiff diff = diff(before, feed);
    assertEquals(Set.of("p-3", "p-new"), diff.upsertIds(), "formatting-only change to p-4 is not a change");
    assertEquals(List.of("p-7", "p-8"), diff.deletes(), "a row rejected this time leaves the catalog");
    assertEquals(17, diff.unchanged());
    assertEquals(1, diff.errors().size());
    assertEquals(19, diff.next().size());
    List<String> emitted = new ArrayList<>();
    diff.emitUpserts(p -> emitted.add(p.id() + "=" + p.price()));
    assertEquals(List.of("p-3=11.00 USD", "p-new=1.00 USD"), emitted);
  }

  @Test
  void aProductTheCheckRefusesLeavesTheCatalogAndBothPassesAgreeOnWhichRowOfAnIdIsValid() throws Exception {
    CatalogSnapshot before = diff(CatalogSnapshot.empty(), tsvCatalog(20)).next();
    ProductCheck check = p -> p.description().length() > 100 ? p.id() + " is too large to publish" : null;
    String huge = "z".repeat(500);
    String feed = tsvCatalog(20).replace(tsvRow("p-3", "Product 3", "13.00 USD"),
            tsvRow("p-3", "Product 3", "13.00 USD").replace("A fine thing", huge))
        + tsvRow("p-new", "Fresh", "1.00 USD").replace("A fine thing", huge)
        + tsvRow("p-new", "Fresh", "2.00 USD");
    CatalogDiff diff = differ.diff(before, FeedSource.of(utf8(feed)), check);
    assertEquals(Set.of("p-new"), diff.upsertIds());
    assertEquals(List.of("p-3"), diff.deletes(), "a product refused by the check leaves the catalog");
    assertEquals(List.of("p-3 is too large to publish", "p-new is too large to publish"),
        diff.errors().stream().map(RowError::reason).toList());
    assertFalse(diff.next().contains("p-3"));
    List<String> emitted = new ArrayList<>();
    diff.emitUpserts(p -> emitted.add(p.id() + "=" + p.price()));
    assertEquals(List.of("p-new=2.00 USD"), emitted, "the second pass skips the refused row of p-new too");
  }

  @Test
  void idsAnUnfinishedSyncMayHavePublishedAreSentAgainWhateverTheSnapshotSays() throws Exception {
    CatalogSnapshot saved = diff(CatalogSnapshot.empty(), tsvCatalog(20)).next();
    // A sync that sent a price change, a tombstone and a new product, then ended before saving its snapshot.
    CatalogDiff unfinished = diff(saved, tsvCatalog(20)
        .replace(tsvRow("p-3", "Product 3", "13.00 USD"), tsvRow("p-3", "Product 3", "11.00 USD"))
        .replace(tsvRow("p-7", "Product 7", "17.00 USD"), "")
        + tsvRow("p-new", "Fresh", "1.00 USD"));
    PendingIds pending = PendingIds.fromBytes(unfinished.pending().toBytes());

    // The feed is back to what the saved snapshot says: only the pending ids tell what the topic may hold.
    String feed = tsvCatalog(20);
    CatalogDiff blind = diff(saved, feed);
    assertTrue(blind.upsertIds().isEmpty() && blind.deletes().isEmpty(), "the snapshot alone sees no change");
    CatalogDiff diff = differ.diff(saved, pending, FeedSource.of(utf8(feed)), ProductCheck.NONE);
    assertEquals(Set.of("p-3", "p-7"), diff.upsertIds(), "the old price again, and the product back");
    assertEquals(List.of("p-new"), diff.deletes(), "a product only the unfinished sync published");
    assertEquals(3, diff.reconciled());
    assertEquals(18, diff.unchanged());
    List<String> emitted = new ArrayList<>();
    diff.emitUpserts(p -> emitted.add(p.id() + "=" + p.price()));
    assertEquals(List.of("p-3=13.00 USD", "p-7=17.00 USD"), emitted);
    PendingIds recorded = diff.pending();
    assertEquals(List.of("p-3", "p-7", "p-new"), java.util.stream.Stream.concat(
            java.util.stream.IntStream.range(0, 20).mapToObj(i -> "p-" + i), java.util.stream.Stream.of("p-new"))
        .filter(recorded::contains).toList(), "recorded before sending, in case this sync does not finish either");
  }

  @Test
  void productsOnlyAnUnfinishedSyncPublishedCountForTheDeletionGuard() throws Exception {
    CatalogDiff unfinishedFirstLoad = diff(CatalogSnapshot.empty(), tsvCatalog(100));
    PendingIds pending = unfinishedFirstLoad.pending();
    FeedRefusedException e = assertThrows(FeedRefusedException.class,
        () -> differ.diff(CatalogSnapshot.empty(), pending, FeedSource.of(utf8(tsvCatalog(10))), ProductCheck.NONE));
    assertEquals(FeedRefusedException.Reason.DELETION_GUARD, e.reason());
    assertTrue(e.getMessage().contains("delete 90 of 100 products"), e.getMessage());
    CatalogDiff complete = differ.diff(CatalogSnapshot.empty(), pending, FeedSource.of(utf8(tsvCatalog(95))),
        ProductCheck.NONE);
    assertEquals(95, complete.upsertIds().size());
    assertEquals(5, complete.deletes().size());
  }

  @Test
  void pendingIdsKeepIdsTheSnapshotHoldsAsHashesAndNewOnesInFull() throws Exception {
    CatalogSnapshot saved = diff(CatalogSnapshot.empty(), tsvCatalog(5000)).next();
    List<String> ids = new ArrayList<>(saved.ids());
    ids.add("brand-new");
    PendingIds pending = PendingIds.of(saved, ids);
    assertEquals(5001, pending.size());
    assertEquals(List.of("brand-new"), pending.newIds());
    byte[] bytes = pending.toBytes();
    assertTrue(bytes.length < 5000 * 8 + 100, "8 bytes an id the snapshot already holds: " + bytes.length);
    PendingIds back = PendingIds.fromBytes(bytes);
    assertTrue(back.contains("p-4999") && back.contains("brand-new"));
    assertFalse(back.contains("p-5000") || back.contains("brand-old"));
    assertEquals(List.of("brand-new"), back.newIds());
    assertArrayEquals(bytes, back.toBytes(), "deterministic bytes");

    assertTrue(PendingIds.fromBytes(PendingIds.empty().toBytes()).isEmpty());
    assertThrows(IOException.class, () -> PendingIds.fromBytes(java.util.Arrays.copyOf(bytes, bytes.length - 3)));
    assertThrows(IOException.class, () -> PendingIds.fromBytes(CatalogSnapshot.empty().toBytes()));
  }

  @Test
  void theSecondPassHandsOverEveryRejectedRowNotOnlyTheOnesKeptForTheReport() throws Exception {
    CatalogDiffer keepsTwo = new CatalogDiffer(new FeedOptions(null, 1 << 20, 1 << 20, 2), DeletionGuard.defaults());
    StringBuilder feed = new StringBuilder(tsvCatalog(3));
    for (int i = 0; i < 5; i++) {
      feed.append(tsvRow("bad-" + i, "Broken", "not a price"));
    }
    CatalogDiff diff = keepsTwo.diff(CatalogSnapshot.empty(), FeedSource.of(utf8(feed.toString())));
    assertEquals(2, diff.errors().size());
    assertEquals(5, diff.summary().rejected());
    List<String> rejected = new ArrayList<>();
    assertEquals(3, diff.emitUpserts(p -> { }, error -> rejected.add(error.id())));
    assertEquals(List.of("bad-0", "bad-1", "bad-2", "bad-3", "bad-4"), rejected);
  }

  @Test
  void feedDeletingNinetyPercentIsRefusedBeforeAnythingIsEmitted() throws Exception {
    CatalogSnapshot before = diff(CatalogSnapshot.empty(), tsvCatalog(100)).next();
    FeedRefusedException e = assertThrows(FeedRefusedException.class, () -> diff(before, tsvCatalog(10)));
    assertEquals(FeedRefusedException.Reason.DELETION_GUARD, e.reason());
    assertTrue(e.getMessage().contains("delete 90 of 100 products (90%)"), e.getMessage());

    CatalogDiffer forced = new CatalogDiffer(FeedOptions.defaults(), DeletionGuard.disabled());
    CatalogDiff diff = forced.diff(before, FeedSource.of(utf8(tsvCatalog(10))));
    assertEquals(90, diff.deletes().size());
  }

  @Test
  void theGuardsRefusalWritesItsNumbersTheSameOnEveryHost() {
    Locale before = Locale.getDefault();
    Locale.setDefault(Locale.forLanguageTag("ar-SA"));
    try {
      FeedRefusedException e = assertThrows(FeedRefusedException.class, () -> DeletionGuard.defaults().check(100, 90));
      assertTrue(e.getMessage().contains("delete 90 of 100 products (90%), above the limit of 50%"), e.getMessage());
      assertTrue(e.getMessage().contains("CATALOG_MAX_DELETE_SHARE=1"), "names the way to apply it: " + e.getMessage());
    } finally {
      Locale.setDefault(before);
    }
  }

  @Test
  void guardThresholdAndSmallCatalogsAreConfigurable() throws Exception {
    CatalogSnapshot before = diff(CatalogSnapshot.empty(), tsvCatalog(100)).next();
    assertEquals(50, diff(before, tsvCatalog(50)).deletes().size(), "exactly the limit passes");
    CatalogDiffer strict = new CatalogDiffer(FeedOptions.defaults(), new DeletionGuard(0.1, 10));
    assertThrows(FeedRefusedException.class, () -> strict.diff(before, FeedSource.of(utf8(tsvCatalog(80)))));
    CatalogSnapshot tiny = diff(CatalogSnapshot.empty(), tsvCatalog(5)).next();
    assertEquals(4, diff(tiny, tsvCatalog(1)).deletes().size(), "a trivial catalog is not guarded");
  }

  @Test
  void emptyFeedAgainstARealCatalogTripsTheGuard() throws Exception {
    CatalogSnapshot before = diff(CatalogSnapshot.empty(), tsvCatalog(30)).next();
    FeedRefusedException e = assertThrows(FeedRefusedException.class, () -> diff(before, TSV_HEADER));
    assertEquals(FeedRefusedException.Reason.DELETION_GUARD, e.reason());
  }

  @Test
  void sourceThatChangesBetweenPassesIsDetected() throws Exception {
    AtomicInteger opens = new AtomicInteger();
    FeedSource flaky = () -> new java.io.ByteArrayInputStream(utf8(
        opens.getAndIncrement() == 0 ? tsvCatalog(5) : tsvCatalog(5).replace("10.00 USD", "99.00 USD")));
    CatalogDiff diff = differ.diff(CatalogSnapshot.empty(), flaky);
    FeedRefusedException e = assertThrows(FeedRefusedException.class, () -> diff.emitUpserts(p -> { }));
    assertEquals(FeedRefusedException.Reason.SOURCE_CHANGED, e.reason());
  }

  @Test
  void snapshotRoundTripsCompactly() throws Exception {
    CatalogSnapshot snapshot = diff(CatalogSnapshot.empty(), tsvCatalog(5000)).next();
    byte[] bytes = snapshot.toBytes();
    assertTrue(bytes.length < 5000 * 14, "about one hash plus a compressed id per product: " + bytes.length);
    CatalogSnapshot back = CatalogSnapshot.fromBytes(bytes);
    assertEquals(snapshot.size(), back.size());
    for (String id : snapshot.ids()) {
      assertEquals(snapshot.hash(id), back.hash(id));
    }
    assertArrayEquals(bytes, back.toBytes(), "deterministic bytes");
  }

  @Test
  void corruptSnapshotBytesAreRejected() {
    byte[] bytes = CatalogSnapshot.of(Map.of("a", 1L, "b", 2L)).toBytes();
    assertThrows(IOException.class, () -> CatalogSnapshot.fromBytes(java.util.Arrays.copyOf(bytes, bytes.length - 3)));
    assertThrows(IOException.class, () -> CatalogSnapshot.fromBytes(utf8("not a snapshot at all")));
    assertThrows(IOException.class, () -> CatalogSnapshot.fromBytes(new byte[0]));
  }

  @Test
  void contentHashIgnoresFormattingButNotContent() throws Exception {
    ProductHasher hasher = new ProductHasher();
    Map<String, Long> hashes = new HashMap<>();
    for (String price : List.of("12.9 USD", "12.90 USD", "USD 12.90")) {
      CollectingSink sink = new CollectingSink();
      new FeedParser(FeedOptions.defaults()).parse(new java.io.ByteArrayInputStream(
          utf8(TSV_HEADER + tsvRow("h", " Hat ", price))), sink);
      hashes.put(price, hasher.hash(sink.products.get(0)));
    }
    assertEquals(1, Set.copyOf(hashes.values()).size());
    CollectingSink other = new CollectingSink();
    new FeedParser(FeedOptions.defaults()).parse(new java.io.ByteArrayInputStream(
        utf8(TSV_HEADER + tsvRow("h", "Hat", "12.90 EUR"))), other);
    assertNotEquals(hashes.get("12.9 USD"), hasher.hash(other.products.get(0)));
  }
}
