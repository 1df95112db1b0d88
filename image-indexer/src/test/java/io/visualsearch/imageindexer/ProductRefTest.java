package io.visualsearch.imageindexer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.pipeline.PoisonRecordException;
import io.visualsearch.topics.SkuSegment;
import org.junit.jupiter.api.Test;

class ProductRefTest {

  @Test
  void theSkuIsEverythingAfterTheFirstSlash() throws Exception {
    assertEquals(new ProductRef("acme", "shirts/blue-1"), ProductRef.fromKey("acme/shirts/blue-1"));
  }

  @Test
  void keysWithoutTenantOrSkuArePoison() {
    for (String key : new String[] {null, "", "no-slash", "/sku", "acme/"}) {
      assertEquals("missing-key", assertThrows(PoisonRecordException.class, () -> ProductRef.fromKey(key)).reason(),
          String.valueOf(key));
    }
  }

  @Test
  void aTenantThatCouldShapeObjectKeysIsPoison() {
    assertEquals("invalid-tenant",
        assertThrows(PoisonRecordException.class, () -> ProductRef.fromKey("../sku")).reason());
    assertEquals("invalid-tenant",
        assertThrows(PoisonRecordException.class, () -> ProductRef.fromKey("Acme Corp/sku")).reason());
  }

  @Test
  void aSkuTooLongForAnObjectStoreKeySegmentIsPoisonNotAStalledPartition() throws Exception {
    // MinIO answers a key segment over 255 bytes with 400, retried for ever like any store failure.
    PoisonRecordException e = assertThrows(PoisonRecordException.class, () -> ProductRef.fromKey("acme/"
        + "a".repeat(251)));
    assertEquals("invalid-sku", e.reason());
    assertTrue(e.getMessage().contains("251 bytes"), e.getMessage());
    assertEquals("a".repeat(250), ProductRef.fromKey("acme/" + "a".repeat(250)).sku());
    // Counted as encoded: 28 CJK characters are 252 bytes, each "/" three.
    assertEquals("invalid-sku", assertThrows(PoisonRecordException.class,
        () -> ProductRef.fromKey("acme/" + "\u6f22".repeat(28))).reason());
    assertEquals("invalid-sku", assertThrows(PoisonRecordException.class,
        () -> ProductRef.fromKey("acme/" + "/".repeat(84))).reason());
    assertEquals("/".repeat(83), ProductRef.fromKey("acme/" + "/".repeat(83)).sku());
  }

  @Test
  void theSkuRuleIsTheOneTheFeedRefusesIdsBy() throws Exception {
    // The feed rejects a row by SkuSegment; a record it lets through must not be dead-lettered here.
    String refused = "\u5546".repeat(28);
    assertTrue(SkuSegment.problem(refused) != null);
    PoisonRecordException e = assertThrows(PoisonRecordException.class, () -> ProductRef.fromKey("acme/" + refused));
    assertTrue(e.getMessage().endsWith(SkuSegment.problem(refused)), e.getMessage());
    String accepted = "\u5546".repeat(27);
    assertEquals(null, SkuSegment.problem(accepted));
    assertEquals(accepted, ProductRef.fromKey("acme/" + accepted).sku());
  }
}
