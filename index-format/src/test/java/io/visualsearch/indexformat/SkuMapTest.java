package io.visualsearch.indexformat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SkuMapTest {

  @Test
  void whatTheBuilderWritesEveryReaderReadsBack() throws Exception {
    byte[] file = SkuMap.write(new long[] {0, 1, 7}, List.of("shirt-1", "Bluse groß", "a/b"));
    assertEquals("0\tshirt-1\n1\tBluse groß\n7\ta/b\n", new String(file, StandardCharsets.UTF_8));
    assertEquals(Map.of(0L, "shirt-1", 1L, "Bluse groß", 7L, "a/b"), SkuMap.parse(file));
  }

  @Test
  void aSkuThatWouldReadBackAsAnotherLineOrColumnIsNotWritten() {
    for (String sku : new String[] {"a\tb", "a\nb", "a\rb", ""}) {
      assertThrows(IllegalArgumentException.class, () -> SkuMap.write(new long[] {1}, List.of(sku)), sku);
    }
  }

  @Test
  void aDamagedMapIsCorruptForEveryReader() {
    for (String damaged : new String[] {"1 shirt\n", "x\tshirt\n", "1\tshirt\n1\tother\n", "1\t\n", "\tshirt\n"}) {
      CorruptIndexException e = assertThrows(CorruptIndexException.class,
          () -> SkuMap.parse(damaged.getBytes(StandardCharsets.UTF_8)), damaged);
      assertTrue(e.getMessage().startsWith(SkuMap.FILE), e.getMessage());
    }
  }
}
