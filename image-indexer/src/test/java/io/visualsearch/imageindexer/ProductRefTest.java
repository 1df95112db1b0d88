package io.visualsearch.imageindexer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.pipeline.PoisonRecordException;
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
  void aSkuWhoseStateKeyS3WouldRefuseIsPoisonNotAStalledPartition() throws Exception {
    // 112 CJK characters: 1008 bytes once URL-encoded, a 1025-byte key under image-state/acme/.
    PoisonRecordException e = assertThrows(PoisonRecordException.class,
        () -> ProductRef.fromKey("acme/" + "\u6f22".repeat(112)));
    assertEquals("invalid-sku", e.reason());
    assertTrue(e.getMessage().contains("1025 bytes"), e.getMessage());
    String longest = "\u6f22".repeat(111);
    assertEquals(new ProductRef("acme", longest), ProductRef.fromKey("acme/" + longest));
  }
}
