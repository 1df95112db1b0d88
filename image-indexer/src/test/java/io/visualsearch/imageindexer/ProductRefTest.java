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
    // 111 CJK characters: 999 bytes once URL-encoded, a 1016-byte key under image-state/acme/, and
    // its similar-items file's one byte longer still.
    PoisonRecordException e = assertThrows(PoisonRecordException.class,
        () -> ProductRef.fromKey("acme/" + "\u6f22".repeat(111)));
    assertEquals("invalid-sku", e.reason());
    assertTrue(e.getMessage().contains("1016 bytes"), e.getMessage());
    String longest = "\u6f22".repeat(110);
    assertEquals(new ProductRef("acme", longest), ProductRef.fromKey("acme/" + longest));
  }
}
