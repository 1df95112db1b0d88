package io.visualsearch.imageindexer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
}
