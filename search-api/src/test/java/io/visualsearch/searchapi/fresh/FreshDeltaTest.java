package io.visualsearch.searchapi.fresh;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.indexformat.ImageKeys;
import io.visualsearch.searchapi.index.LoadedIndex;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FreshDeltaTest {

  /** The picture version 1 indexed for sku-1 and sku-2, and another one. */
  static final String INDEXED = "ab".repeat(32);
  static final String CHANGED = "cd".repeat(32);

  static LoadedIndex v1WithPictures() throws Exception {
    return ShardlessVersions.withImages("acme", "v1", 1, 2, Map.of(0, 10L), Map.of("sku-1", INDEXED, "sku-2", INDEXED));
  }

  @Test
  void aQueryOfAVersionLeasedBeforeASwapToAnotherModelSearchesOnlyItsOwnModelsVectors() {
    // Same dimension, so nothing but the model version tells the two spaces apart.
    LoadedIndex v1 = ShardlessVersions.of("acme", "v1", 1, 2, Map.of(0, 10L));
    LoadedIndex v2 = ShardlessVersions.of("acme", "v2", 2, 2, Map.of(0, 20L));
    FreshDelta delta = new FreshDelta();
    delta.rebase(v1);
    // A query leased v1 and waits for its embedding while v2 is installed and new vectors arrive.
    delta.rebase(v2);
    delta.accept(new DeltaEntry("sku-changed", 0, 21, "default", 2, new float[] {0, 1}, 0));
    delta.accept(new DeltaEntry("sku-old-model", 0, 22, "default", 1, new float[] {1, 0}, 0));

    FreshDelta.Snapshot forV1 = delta.snapshot(v1);
    assertEquals(List.of("sku-old-model"), forV1.searchable().stream().map(DeltaEntry::sku).toList());
    assertEquals(Set.of("sku-old-model"), forV1.hidden(), "v1's own vector of sku-changed stays searchable");
    assertNull(delta.snapshot(v1).vectorOf("sku-changed"));
    assertArrayEquals(new float[] {1, 0}, delta.snapshot(v1).vectorOf("sku-old-model"));

    FreshDelta.Snapshot forV2 = delta.snapshot(v2);
    assertEquals(List.of("sku-changed"), forV2.searchable().stream().map(DeltaEntry::sku).toList());
    assertEquals(Set.of("sku-changed"), forV2.hidden());
    assertArrayEquals(new float[] {0, 1}, delta.snapshot(v2).vectorOf("sku-changed"));
  }

  /** Every request takes a snapshot: it is computed once per change, not copied for each request. */
  @Test
  void requestsBetweenTwoChangesShareOneSnapshotAndAChangeIsSeenAtOnce() {
    LoadedIndex v1 = ShardlessVersions.of("acme", "v1", 1, 2, Map.of(0, 10L));
    LoadedIndex v2 = ShardlessVersions.of("acme", "v2", 1, 2, Map.of(0, 10L));
    FreshDelta delta = new FreshDelta();
    delta.rebase(v1);
    delta.accept(new DeltaEntry("sku-a", 0, 11, "default", 1, new float[] {1, 0}, 0));
    FreshDelta.Snapshot first = delta.snapshot(v1);
    assertSame(first, delta.snapshot(v1), "nothing changed: the same snapshot");
    assertSame(first, delta.completeSnapshot(v1).orElseThrow());
    assertNotSame(first, delta.snapshot(v2), "another version's snapshot is its own");

    delta.accept(new DeltaEntry("sku-b", 0, 12, "default", 1, new float[] {0, 1}, 0));
    FreshDelta.Snapshot second = delta.snapshot(v1);
    assertEquals(Set.of("sku-a", "sku-b"), second.hidden(), "the change is in the next request's snapshot");
    delta.accept(new DeltaEntry("sku-a", 0, 13, "default", 1, null, 0));
    assertEquals(List.of("sku-b"), delta.snapshot(v1).searchable().stream().map(DeltaEntry::sku).toList(),
        "a removal too");
  }

  @Test
  void aVectorOfAnotherSignatureOfTheSameVersionIsNotSearchedBesideTheIndex() {
    // The generator reconfigured to another layer of version 1, of the same dimension: its vectors
    // wait for an index of that layer instead of being compared with serving_default's.
    LoadedIndex v1 = ShardlessVersions.of("acme", "v1", 1, 2, Map.of(0, 10L));
    FreshDelta delta = new FreshDelta();
    delta.rebase(v1);
    delta.accept(new DeltaEntry("sku-other-layer", 0, 11, "default", 1, "mixed7", new float[] {1, 0}, 0));
    delta.accept(new DeltaEntry("sku-same-layer", 0, 12, "default", 1, "serving_default", new float[] {0, 1}, 0));
    delta.accept(new DeltaEntry("sku-unsaid", 0, 13, "default", 1, new float[] {0, 1}, 0));

    FreshDelta.Snapshot snapshot = delta.snapshot(v1);
    assertEquals(Set.of("sku-same-layer", "sku-unsaid"),
        Set.copyOf(snapshot.searchable().stream().map(DeltaEntry::sku).toList()));
    assertEquals(Set.of("sku-same-layer", "sku-unsaid"), snapshot.hidden(),
        "the index's own vector of sku-other-layer stays searchable");
    assertNull(delta.snapshot(v1).vectorOf("sku-other-layer"));
  }

  @Test
  void aVectorOfAnotherVariantOfTheSameSignatureIsNotSearchedBesideTheIndex() {
    // The generator reconfigured to another image size: same version, signature and dimension.
    String asIs224 = "serving_default.embedding.224px.as-is";
    LoadedIndex v1 = ShardlessVersions.ofVariant("acme", "v1", 1, 2, Map.of(0, 10L), asIs224);
    FreshDelta delta = new FreshDelta();
    delta.rebase(v1);
    delta.accept(new DeltaEntry("sku-resized", 0, 11, "default", 1, "serving_default",
        "serving_default.embedding.299px.resized", new float[] {1, 0}, 0));
    delta.accept(new DeltaEntry("sku-same", 0, 12, "default", 1, "serving_default", asIs224, new float[] {0, 1}, 0));
    delta.accept(new DeltaEntry("sku-unsaid", 0, 13, "default", 1, "serving_default", new float[] {0, 1}, 0));

    FreshDelta.Snapshot snapshot = delta.snapshot(v1);
    assertEquals(Set.of("sku-same", "sku-unsaid"),
        Set.copyOf(snapshot.searchable().stream().map(DeltaEntry::sku).toList()));
    assertNull(snapshot.vectorOf("sku-resized"));
  }

  @Test
  void duringARolloutAProductWhosePictureTheServedIndexLacksGetsAStandInOfTheServedModel() throws Exception {
    String indexed = INDEXED;
    String changed = CHANGED;
    LoadedIndex v1 = v1WithPictures();
    FreshDelta delta = new FreshDelta();
    delta.rebase(v1);
    // The generator re-embeds with version 2 (3-d): sku-1's picture is the indexed one, sku-2's
    // changed, sku-new is a new product.
    DeltaEntry unchanged = new DeltaEntry("sku-1", 0, 11, "default", 2, new float[] {1, 0, 0}, ImageKeys.of(indexed));
    DeltaEntry newPicture = new DeltaEntry("sku-2", 0, 12, "default", 2, new float[] {0, 1, 0}, ImageKeys.of(changed));
    DeltaEntry newProduct = new DeltaEntry("sku-new", 0, 13, "default", 2, new float[] {0, 0, 1}, ImageKeys.of(changed));
    for (DeltaEntry e : List.of(unchanged, newPicture, newProduct)) {
      delta.accept(e);
    }
    assertTrue(delta.needsStandIn(unchanged).isEmpty(), "the served index holds its picture");
    assertEquals(Optional.of(v1), delta.needsStandIn(newPicture));
    assertEquals(Optional.of(v1), delta.needsStandIn(newProduct));
    assertEquals(List.of(), delta.snapshot(v1).searchable(), "version 2's vectors are not searched in version 1");

    assertTrue(delta.acceptStandIn(newPicture, v1.model(), new float[] {0, 2}));
    FreshDelta.Snapshot s = delta.snapshot(v1);
    assertEquals(List.of("sku-2"), s.searchable().stream().map(DeltaEntry::sku).toList());
    assertEquals(1, s.searchable().get(0).modelVersion());
    assertEquals(Set.of("sku-2"), s.hidden(), "its indexed vector, of the old picture, is hidden");
    assertArrayEquals(new float[] {0, 1}, s.vectorOf("sku-2"), 1e-6f, "prepared for the index's cosine space");
    assertTrue(delta.needsStandIn(newPicture).isEmpty(), "it has one");

    // A newer record of the product drops the stand-in; one computed from the older picture is refused.
    DeltaEntry newer = new DeltaEntry("sku-2", 0, 14, "default", 2, new float[] {1, 1, 0}, ImageKeys.of("ef".repeat(32)));
    delta.accept(newer);
    assertEquals(List.of(), delta.snapshot(v1).searchable());
    assertFalse(delta.acceptStandIn(newPicture, v1.model(), new float[] {0, 2}), "of a picture the product no longer has");
    assertEquals(Optional.of(v1), delta.needsStandIn(newer));

    // Version 2's index, built up to offset 13: its own vectors serve; a stand-in of version 1 is moot.
    assertTrue(delta.acceptStandIn(newer, v1.model(), new float[] {1, 1}));
    LoadedIndex v2 = ShardlessVersions.of("acme", "v2", 2, 3, Map.of(0, 14L));
    delta.rebase(v2);
    FreshDelta.Snapshot forV2 = delta.snapshot(v2);
    assertEquals(List.of("sku-2"), forV2.searchable().stream().map(DeltaEntry::sku).toList());
    assertEquals(2, forV2.searchable().get(0).modelVersion());
    assertTrue(delta.needsStandIn(newer).isEmpty(), "version 2 searches the record itself");
    assertFalse(delta.acceptStandIn(newer, v1.model(), new float[] {1, 1}), "no longer the served model");
  }

  @Test
  void aRolloutReEmbeddingAPictureTheDeltaAlreadySearchesKeepsTheServedModelsVector() throws Exception {
    LoadedIndex v1 = v1WithPictures();
    FreshDelta delta = new FreshDelta();
    delta.rebase(v1);
    // sku-2's new picture and a new product, embedded with version 1 before the rollout: searchable.
    delta.accept(new DeltaEntry("sku-2", 0, 11, "default", 1, new float[] {0, 3}, ImageKeys.of(CHANGED)));
    delta.accept(new DeltaEntry("sku-new", 0, 12, "default", 1, new float[] {4, 0}, ImageKeys.of(CHANGED)));
    // The rollout re-embeds the same pictures with version 2 (3-d).
    DeltaEntry sku2 = new DeltaEntry("sku-2", 0, 13, "default", 2, new float[] {1, 0, 0}, ImageKeys.of(CHANGED));
    DeltaEntry added = new DeltaEntry("sku-new", 0, 14, "default", 2, new float[] {0, 1, 0}, ImageKeys.of(CHANGED));
    delta.accept(sku2);
    delta.accept(added);

    FreshDelta.Snapshot s = delta.snapshot(v1);
    assertEquals(Set.of("sku-2", "sku-new"), s.hidden(), "version 1's vector of sku-2's old picture stays hidden");
    assertEquals(Set.of("sku-2", "sku-new"), Set.copyOf(s.searchable().stream().map(DeltaEntry::sku).toList()));
    assertTrue(s.searchable().stream().allMatch(e -> e.modelVersion() == 1));
    assertArrayEquals(new float[] {0, 1}, s.vectorOf("sku-2"), 1e-6f);
    assertArrayEquals(new float[] {1, 0}, s.vectorOf("sku-new"), 1e-6f);
    assertTrue(delta.needsStandIn(sku2).isEmpty(), "its version 1 vector stands in; nothing to re-embed");

    // Version 2's index, built up to sku-2's record: it serves sku-new's record itself.
    LoadedIndex v2 = ShardlessVersions.of("acme", "v2", 2, 3, Map.of(0, 14L));
    delta.rebase(v2);
    assertEquals(List.of("sku-new"), delta.snapshot(v2).searchable().stream().map(DeltaEntry::sku).toList());
    assertEquals(2, delta.snapshot(v2).searchable().get(0).modelVersion());
  }

  @Test
  void aRecordRepeatingWhatTheServedVersionHoldsIsNotKept() throws Exception {
    String indexed = INDEXED;
    String changed = CHANGED;
    LoadedIndex v1 = v1WithPictures();
    FreshDelta delta = new FreshDelta();
    delta.rebase(v1);

    // A price change comes back through the pipeline with the same image and model.
    delta.accept(new DeltaEntry("sku-1", 0, 11, "default", 1, new float[] {1, 0}, ImageKeys.of(indexed)));
    assertEquals(0, delta.size(), "nothing new to search: the index holds this vector");

    delta.accept(new DeltaEntry("sku-2", 0, 12, "default", 1, new float[] {0, 1}, ImageKeys.of(changed)));
    assertEquals(List.of("sku-2"), delta.snapshot(v1).searchable().stream().map(DeltaEntry::sku).toList());
    delta.accept(new DeltaEntry("sku-2", 0, 13, "default", 1, new float[] {1, 0}, ImageKeys.of(indexed)));
    assertEquals(0, delta.size(), "back to the indexed image: the index's vector is current again");
    assertEquals(Set.of(), delta.snapshot(v1).hidden());

    delta.accept(new DeltaEntry("sku-3", 0, 14, "default", 1, new float[] {1, 0}, 0));
    assertEquals(1, delta.size(), "a vector of an unknown image is kept");
  }

  /**
   * A product goes A -> B -> A while the index holds A. Any tenant's swap rewinds the shared reader
   * to that tenant's floor: B's record, read again, found no entry and hid the indexed A, answering
   * with picture B until the revert was read again.
   */
  @Test
  void aRewindDoesNotBringBackTheIntermediatePictureOfAProductThatReverted() throws Exception {
    LoadedIndex v1 = v1WithPictures();
    FreshDelta delta = new FreshDelta();
    delta.rebase(v1);
    DeltaEntry b = new DeltaEntry("sku-2", 0, 200, "default", 1, new float[] {0, 1}, ImageKeys.of(CHANGED));
    delta.accept(b);
    delta.accept(new DeltaEntry("sku-2", 0, 300, "default", 1, new float[] {1, 0}, ImageKeys.of(INDEXED)));

    delta.accept(b);
    FreshDelta.Snapshot s = delta.snapshot(v1);
    assertEquals(Set.of(), s.hidden(), "the indexed picture A answers");
    assertEquals(List.of(), s.searchable());
    assertEquals(0, delta.vectors(), "nor does B take room under the cap");
    assertEquals(1, delta.markers());

    // A newer change is taken as ever, and the marker is gone with it.
    delta.accept(new DeltaEntry("sku-2", 0, 400, "default", 1, new float[] {0, 1}, ImageKeys.of(CHANGED)));
    assertEquals(Set.of("sku-2"), delta.snapshot(v1).hidden());
  }

  /**
   * The same when an adoption drops the entry: the new version holds the product's picture, and the
   * rewind to its floor reads the product's older records past that floor again.
   */
  @Test
  void aRewindAfterAnAdoptionDoesNotBringBackAPictureTheProductLeft() throws Exception {
    LoadedIndex v1 = v1WithPictures();
    FreshDelta delta = new FreshDelta();
    delta.rebase(v1);
    String c = "ef".repeat(32);
    DeltaEntry b = new DeltaEntry("sku-2", 0, 200, "default", 1, new float[] {0, 1}, ImageKeys.of(CHANGED));
    delta.accept(new DeltaEntry("sku-2", 0, 100, "default", 1, new float[] {1, 1}, ImageKeys.of(c)));
    delta.accept(b);
    delta.accept(new DeltaEntry("sku-2", 0, 300, "default", 1, new float[] {1, 1}, ImageKeys.of(c)));
    // Built from the records up to 150: it holds C (@100), which @300 went back to.
    LoadedIndex v2 = ShardlessVersions.withImages("acme", "v2", 1, 2, Map.of(0, 150L),
        Map.of("sku-1", INDEXED, "sku-2", c));
    delta.rebase(v2);
    assertEquals(Set.of(), delta.snapshot(v2).hidden());

    delta.accept(b);
    assertEquals(Set.of(), delta.snapshot(v2).hidden(), "v2's picture C answers, not B");

    assertEquals(1, delta.markers());

    // Markers go once an index covers their record: they do not pile up between builds.
    delta.rebase(ShardlessVersions.withImages("acme", "v3", 1, 2, Map.of(0, 301L), Map.of("sku-2", c)));
    assertEquals(0, delta.markers());
  }

  /**
   * A model rollout re-embeds the whole catalog with the new model, its pictures unchanged: none of
   * those records is held while the old model's index serves (each about 3 KB on the heap, for
   * hours). The new model's index, once adopted, gets those past its floor from the follower's
   * rewind to that floor.
   */
  @Test
  void aRolloutReEmbeddingUnchangedPicturesFillsNothingUntilItsIndexIsServed() throws Exception {
    LoadedIndex v1 = v1WithPictures();
    FreshDelta delta = new FreshDelta();
    delta.rebase(v1);
    DeltaEntry sku1 = new DeltaEntry("sku-1", 0, 11, "default", 2, new float[] {1, 0, 0}, ImageKeys.of(INDEXED));
    DeltaEntry sku2 = new DeltaEntry("sku-2", 0, 12, "default", 2, new float[] {0, 1, 0}, ImageKeys.of(INDEXED));
    delta.accept(sku1);
    delta.accept(sku2);
    assertEquals(0, delta.size(), "version 1 holds both pictures");
    assertEquals(List.of(), delta.snapshot(v1).searchable());
    assertEquals(Set.of(), delta.snapshot(v1).hidden(), "their version 1 vectors answer as before");

    // Version 2's index, built before sku-2's record: the rewind to its floor reads that record again.
    LoadedIndex v2 = ShardlessVersions.withImages("acme", "v2", 2, 3, Map.of(0, 12L), Map.of("sku-1", INDEXED));
    delta.rebase(v2);
    delta.accept(sku2);
    assertEquals(List.of("sku-2"), delta.snapshot(v2).searchable().stream().map(DeltaEntry::sku).toList());
  }

  @Test
  void installingAVersionDropsEntriesItAlreadyHolds() throws Exception {
    String image = "ef".repeat(32);
    FreshDelta delta = new FreshDelta();
    delta.rebase(ShardlessVersions.of("acme", "v1", 1, 2, Map.of(0, 10L)));
    delta.accept(new DeltaEntry("sku-1", 0, 15, "default", 1, new float[] {1, 0}, ImageKeys.of(image)));
    delta.accept(new DeltaEntry("sku-2", 0, 16, "default", 1, new float[] {0, 1}, ImageKeys.of(image)));
    assertEquals(2, delta.size());
    // Built from offsets before both records, but with sku-1's image (it was re-sent after the build).
    delta.rebase(ShardlessVersions.withImages("acme", "v2", 1, 2, Map.of(0, 12L), Map.of("sku-1", image)));
    assertEquals(1, delta.size());
    assertNull(delta.snapshot(ShardlessVersions.of("acme", "v2", 1, 2, Map.of(0, 12L))).vectorOf("sku-1"));
  }

  @Test
  void aDeletionHidesTheProductFromEveryVersion() {
    LoadedIndex v1 = ShardlessVersions.of("acme", "v1", 1, 2, Map.of(0, 10L));
    LoadedIndex v2 = ShardlessVersions.of("acme", "v2", 2, 2, Map.of(0, 20L));
    FreshDelta delta = new FreshDelta();
    delta.rebase(v2);
    delta.accept(new DeltaEntry("sku-gone", 0, 21, "", 0, null, 0));
    assertEquals(Set.of("sku-gone"), delta.snapshot(v1).hidden());
    assertEquals(Set.of("sku-gone"), delta.snapshot(v2).hidden());
  }

  @Test
  void aVersionReplacedSinceItWasLeasedGetsNoSnapshotOnceItsRecordsAreDropped() {
    LoadedIndex v1 = ShardlessVersions.of("acme", "v1", 1, 2, Map.of(0, 10L));
    LoadedIndex v2 = ShardlessVersions.of("acme", "v2", 1, 2, Map.of(0, 20L));
    FreshDelta delta = new FreshDelta();
    delta.rebase(v1);
    delta.accept(new DeltaEntry("sku-changed", 0, 15, "default", 1, new float[] {0, 1}, 0));
    assertTrue(delta.completeSnapshot(v1).isPresent());

    delta.rebase(v2); // drops offset 15: v2 holds it, v1 does not
    assertTrue(delta.completeSnapshot(v1).isEmpty(), "a snapshot without sku-changed would answer v1's old vector");
    assertTrue(delta.completeSnapshot(v2).isPresent());
  }

  @Test
  void aVersionInstalledButNotYetAdoptedSkipsRecordsItHolds() {
    LoadedIndex v1 = ShardlessVersions.of("acme", "v1", 1, 2, Map.of(0, 10L));
    LoadedIndex v2 = ShardlessVersions.of("acme", "v2", 1, 2, Map.of(0, 20L));
    FreshDelta delta = new FreshDelta();
    delta.rebase(v1);
    // The follower is behind: it has the product's picture of offset 15, v2 the one of offset 18.
    delta.accept(new DeltaEntry("sku-changed", 0, 15, "default", 1, new float[] {0, 1}, 0));
    delta.accept(new DeltaEntry("sku-gone", 0, 16, "", 0, null, 0));
    delta.accept(new DeltaEntry("sku-new", 0, 21, "default", 1, new float[] {1, 0}, 0));

    // A query leased v2 between its installation and the delta adopting it.
    FreshDelta.Snapshot forV2 = delta.completeSnapshot(v2).orElseThrow();
    assertEquals(List.of("sku-new"), forV2.searchable().stream().map(DeltaEntry::sku).toList());
    assertEquals(Set.of("sku-new"), forV2.hidden(), "older records must not hide v2's newer vectors");
    assertEquals(Set.of("sku-changed", "sku-gone", "sku-new"), delta.snapshot(v1).hidden());
  }

  @Test
  void aVectorTakenIntoANewVersionIsNewerThanTheFilesOfOlderVersionsOnly() {
    LoadedIndex v1 = ShardlessVersions.of("acme", "v1", 1, 2, Map.of(0, 10L));
    LoadedIndex v2 = ShardlessVersions.of("acme", "v2", 1, 2, Map.of(0, 20L));
    LoadedIndex v3 = ShardlessVersions.of("acme", "v3", 1, 2, Map.of(0, 30L));
    FreshDelta delta = new FreshDelta();
    delta.rebase(v1);
    delta.accept(new DeltaEntry("sku-changed", 0, 15, "default", 1, new float[] {0, 1}, 0));
    delta.accept(new DeltaEntry("sku-removed", 0, 16, "default", 1, null, 0));
    delta.rebase(v2);

    FreshDelta.Snapshot s = delta.snapshot(v2);
    assertNull(s.vectorOf("sku-changed"), "v2 holds it: no longer searched beside the index");
    assertArrayEquals(new float[] {0, 1}, s.newerThanFile("sku-changed", "v1"), "v1's files are of the old picture");
    assertArrayEquals(new float[] {0, 1}, s.newerThanFile("sku-changed", null), "no file at all");
    assertArrayEquals(new float[] {0, 1}, s.newerThanFile("sku-changed", "v0-unknown"));
    assertNull(s.newerThanFile("sku-changed", "v2"), "v2's files know the new picture");
    assertNull(s.absorbedVectorOf("sku-removed"), "a deletion is no vector");

    delta.rebase(v3);
    assertNull(delta.snapshot(v3).newerThanFile("sku-changed", "v3"));
    assertNull(delta.snapshot(v3).newerThanFile("sku-changed", "v2"), "taken by v2: v2's files are current");
    assertArrayEquals(new float[] {0, 1}, delta.snapshot(v3).newerThanFile("sku-changed", "v1"));

    // A newer record of the product goes back into the delta; a deletion ends it.
    delta.accept(new DeltaEntry("sku-changed", 0, 31, "default", 1, null, 0));
    assertNull(delta.snapshot(v3).absorbedVectorOf("sku-changed"));
    assertNull(delta.snapshot(v3).newerThanFile("sku-changed", "v1"));
  }

  @Test
  void absorbedVectorsOfAnotherModelOrSpaceAreNeverSearched() {
    LoadedIndex v1 = ShardlessVersions.of("acme", "v1", 1, 2, Map.of(0, 10L));
    LoadedIndex v2 = ShardlessVersions.of("acme", "v2", 1, 2, Map.of(0, 20L));
    LoadedIndex v3OtherModel = ShardlessVersions.of("acme", "v3", 2, 2, Map.of(0, 30L));
    FreshDelta delta = new FreshDelta();
    delta.rebase(v1);
    delta.accept(new DeltaEntry("sku-changed", 0, 15, "default", 1, new float[] {0, 1}, 0));
    delta.rebase(v2);
    assertArrayEquals(new float[] {0, 1}, delta.snapshot(v2).absorbedVectorOf("sku-changed"));
    assertNull(delta.snapshot(v3OtherModel).absorbedVectorOf("sku-changed"), "model 1's vector, model 2's index");
  }
}
