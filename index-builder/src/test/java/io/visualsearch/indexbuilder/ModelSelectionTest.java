package io.visualsearch.indexbuilder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModelSelectionTest {

  private static final ModelKey V1 = new ModelKey("default", 1, "", "");
  private static final ModelKey V2 = new ModelKey("default", 2, "", "");
  private final ModelSelection selection = new ModelSelection(0.9, 0.5, Duration.ofMinutes(5));
  private final long now = 1_000_000_000L;

  @Test
  void aSingleModelIsBuiltRightAway() {
    ModelSelection.Decision d = selection.choose(Map.of(V1, 10), Map.of(V1, now), Map.of(V1, now), null, 0, now);
    assertTrue(d.build());
    assertEquals(V1, d.model());
    assertNull(selection.choose(Map.of(), Map.of(), Map.of(), V1, 0, now), "no products, no model");
  }

  @Test
  void anUpgradeWaitsUntilTheNewVersionCoversTheCatalog() {
    ModelSelection.Decision held = selection.choose(Map.of(V1, 60, V2, 40), Map.of(V2, now), Map.of(V2, now), V1, 100, now);
    assertFalse(held.build());
    assertEquals(V2, held.model());
    assertTrue(held.holdReason().contains("40 of 100"), held.holdReason());
    assertTrue(selection.choose(Map.of(V1, 10, V2, 90), Map.of(V2, now), Map.of(V2, now), V1, 100, now).build(), "90% reaches 0.9");
    assertEquals(V2, selection.choose(Map.of(V1, 10, V2, 90), Map.of(V2, now), Map.of(V2, now), V1, 100, now).model());
  }

  @Test
  void aCatalogReEmbeddedUnderAnotherModelNameIsHeldUntilCoveredAsAnUpgradeIs() {
    // MODEL_NAME changed: version numbers start again at 1, only the name tells the models apart.
    ModelKey other = new ModelKey("resnet50", 1, "", "");
    ModelSelection.Decision held = selection.choose(Map.of(V2, 70, other, 30), Map.of(other, now), Map.of(other, now),
        V2, 100, now);
    assertFalse(held.build(), "the served index keeps serving every product");
    assertEquals(other, held.model());
    ModelSelection.Decision built = selection.choose(Map.of(V2, 5, other, 95), Map.of(other, now), Map.of(other, now),
        V2, 100, now);
    assertTrue(built.build());
    assertEquals(other, built.model());
  }

  @Test
  void anUpgradeThatWentQuietHavingCoveredMostIsBuiltWithoutItsStragglers() {
    Map<ModelKey, Long> arrivals = Map.of(V2, now);
    assertFalse(selection.choose(Map.of(V1, 40, V2, 60), arrivals, arrivals, V1, 100, now + 299_999).build());
    ModelSelection.Decision d = selection.choose(Map.of(V1, 40, V2, 60), arrivals, arrivals, V1, 100, now + 300_000);
    assertTrue(d.build());
    assertEquals(V2, d.model(), "only the newest version's vectors, never a mix");
    assertEquals(now + 300_000, selection.recheckAtMs(arrivals, V2));
  }

  /** The embeddings-generator stopped 40% into an upgrade: building v2 would drop the other 60%. */
  @Test
  void anUpgradeThatStoppedEarlyIsNotBuiltWhenItGoesQuiet() {
    Map<ModelKey, Long> arrivals = Map.of(V2, now);
    ModelSelection.Decision d = selection.choose(Map.of(V1, 60, V2, 40), arrivals, arrivals, V1, 100, now + 3_600_000);
    assertFalse(d.build(), "the published v1 index keeps serving every product");
    assertTrue(d.holdReason().contains("40 of 100") && d.holdReason().contains("embeddings-generator"),
        d.holdReason());
  }

  /**
   * Served from a v2 index of 100 products, then one v1 vector (an old generator replica still
   * running): v1 is the model produced last, and once quiet it was built, an index of one product.
   */
  @Test
  void aStrayVectorOfTheOldModelAfterAnUpgradeNeverShrinksTheServedIndex() {
    Map<ModelKey, Long> arrivals = Map.of(V2, now - 3_600_000, V1, now);
    ModelSelection.Decision d = selection.choose(Map.of(V2, 99, V1, 1), arrivals, arrivals, V2, 100, now + 300_000);
    assertFalse(d.build());
    assertEquals(V1, d.model());
  }

  /**
   * v2 withdrawn, the catalog re-embedded with v1: v2 is not rebuilt from the products it still
   * holds (fewer at every build, and no query can be embedded with it), and v1 takes over once it
   * covers the catalog.
   */
  @Test
  void aRollbackMovesToTheVersionBeingReEmbeddedNotTheNewestPresent() {
    Map<ModelKey, Long> arrivals = Map.of(V2, now - 60_000, V1, now);
    Map<ModelKey, Long> produced = Map.of(V2, now - 60_000, V1, now);
    ModelSelection.Decision held = selection.choose(Map.of(V1, 40, V2, 60), arrivals, produced, V2, 100, now);
    assertFalse(held.build(), "the published v2 index stays as it is meanwhile");
    assertEquals(V1, held.model());
    ModelSelection.Decision d = selection.choose(Map.of(V1, 95, V2, 5), arrivals, produced, V2, 100, now);
    assertTrue(d.build());
    assertEquals(V1, d.model());
  }

  /**
   * A builder restarted during an upgrade replays v2 vectors produced minutes ago: the quiet
   * period counts from their arrival, not their production, or the restart alone would publish
   * v2 from the part of the catalog re-embedded so far.
   */
  @Test
  void aReplayAfterARestartStartsTheQuietPeriodAgain() {
    Map<ModelKey, Long> arrivals = Map.of(V1, now, V2, now);
    Map<ModelKey, Long> produced = Map.of(V1, now - 3_600_000, V2, now - 360_000);
    ModelSelection.Decision d = selection.choose(Map.of(V1, 60, V2, 40), arrivals, produced, V1, 100, now);
    assertFalse(d.build(), "v2 covers 40% and its vectors arrived just now");
    assertEquals(V2, d.model());
  }

  /**
   * v1 served from 100 products, 70 already re-embedded with v2, then one more v1 vector (an old
   * generator still running): rebuilding v1 now would serve 31 products and drop the other 69.
   */
  @Test
  void aLateVectorOfTheServedModelMidUpgradeDoesNotShrinkItsIndex() {
    Map<ModelKey, Long> arrivals = Map.of(V2, now - 1_000, V1, now);
    Map<ModelKey, Long> produced = Map.of(V2, now - 1_000, V1, now);
    ModelSelection.Decision held = selection.choose(Map.of(V1, 31, V2, 70), arrivals, produced, V1, 100, now);
    assertFalse(held.build(), "the served index stays whole");
    assertEquals(V1, held.model());
    assertTrue(held.holdReason().contains("31 of 100 products its served index holds"), held.holdReason());
    assertFalse(selection.choose(Map.of(V1, 31, V2, 70), arrivals, produced, V1, 100, now + 300_000).build(),
        "nor after the quiet period: 31 of 100 is a stray or a rollback stopped early");
    assertTrue(selection.choose(Map.of(V1, 60, V2, 41), arrivals, produced, V1, 100, now + 300_000).build(),
        "a rollback that went quiet having re-embedded most of the catalog is built");
  }

  @Test
  void onceTheNewVersionIsServedStragglersDoNotHoldBuilds() {
    ModelSelection.Decision d = selection.choose(Map.of(V1, 60, V2, 40), Map.of(V2, now), Map.of(V2, now), V2, 40, now);
    assertTrue(d.build());
    assertEquals(V2, d.model());
  }

  /**
   * Moved from v1 to v2 an hour ago, 20 stragglers left on v1, the v2 index holding 980: the
   * retailer then removes 150 products. Measured against the 980 its index held, v2's 830 was held
   * at every build for good, the removed products served and new ones never published.
   */
  @Test
  void aCatalogThatShrinksAfterAnUpgradeIsStillBuilt() {
    ModelSelection defaults = new ModelSelection(0.98, 0.9, Duration.ofMinutes(5));
    Map<ModelKey, Long> arrivals = Map.of(V1, now - 7_200_000, V2, now - 3_600_000);
    ModelSelection.Decision d = defaults.choose(Map.of(V2, 830, V1, 20), arrivals, arrivals, V2, 980, now);
    assertTrue(d.build(), d.holdReason());
    assertEquals(V2, d.model());
    assertTrue(defaults.choose(Map.of(V2, 840, V1, 10), arrivals, arrivals, V2, 980, now).build(),
        "98% of what is left is built at once");
    ModelSelection.Decision recent = defaults.choose(Map.of(V2, 830, V1, 20), Map.of(V2, now), arrivals, V2, 980, now);
    assertFalse(recent.build(), "a v1 product may have left the served index: 97.6% waits for the quiet period");
    assertTrue(recent.holdReason().contains("830 of 850 products ("), recent.holdReason());
  }

  /** The guard against a late vector of the served model holds in a shrunk catalog too. */
  @Test
  void aLateVectorOfTheServedModelInAShrunkCatalogDoesNotShrinkItsIndex() {
    Map<ModelKey, Long> arrivals = Map.of(V2, now - 1_000, V1, now);
    assertFalse(selection.choose(Map.of(V1, 10, V2, 70), arrivals, arrivals, V1, 100, now + 300_000).build());
  }
}
