package io.visualsearch.responseconsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.indexformat.IndexManifest;
import io.visualsearch.pipeline.PoisonRecordException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NativeAllowanceTest {

  static final long MIB = 1 << 20;

  /** Two shards of the given sizes; the second is quantised, with exact vectors the job never loads. */
  static IndexManifest manifest(long firstBytes, long secondBytes) {
    return new IndexManifest(IndexManifest.FORMAT, "acme", "v7", 0, "default", 1, "serving_default", 768, "cosine",
        "IDMap,Flat", 3, List.of(new IndexManifest.ShardFile("shard-0.faiss", 2, firstBytes, "a"),
            new IndexManifest.ShardFile("shard-1.faiss", 1, secondBytes, "b",
                new IndexManifest.IndexFile("shard-1.vectors", 900 * MIB, "c"))),
        new IndexManifest.IndexFile("skus.tsv", 10, "d"), Map.of(0, 3L));
  }

  @Test
  void aRunNeedsItsShardsOutsideTheHeapButNotTheExactVectorsItDoesNotLoad() {
    assertEquals(300 * MIB, NativeAllowance.needed(manifest(200 * MIB, 100 * MIB)));
  }

  @Test
  void derivedFromTheContainersMemoryLessTheHeapAndTheJvmsOwn() {
    // A 2 GiB container with half of it as heap, as the shipped manifests run it.
    NativeAllowance a = NativeAllowance.derived(2048 * MIB, 1024 * MIB);
    assertEquals(1024 * MIB - NativeAllowance.JVM_OWN_BYTES, a.bytesAllowed());
    assertEquals(Long.MAX_VALUE, NativeAllowance.derived(1024 * MIB, 1024 * MIB).bytesAllowed(),
        "a heap sized past the machine tells nothing: unchecked rather than every version refused");
    assertEquals(512 * MIB, NativeAllowance.of(512 * MIB).bytesAllowed(), "a configured allowance is taken as it is");
  }

  @Test
  void shardsThatDoNotFitAreRefusedWithWhatTheyNeedAndWhatIsAllowed() throws Exception {
    NativeAllowance a = NativeAllowance.derived(2048 * MIB, 1024 * MIB);
    a.check(manifest(500 * MIB, 200 * MIB)); // 700 of 768 MiB
    PoisonRecordException e = assertThrows(PoisonRecordException.class, () -> a.check(manifest(600 * MIB, 200 * MIB)));
    assertEquals("catalog-exceeds-native-memory", e.reason());
    assertTrue(e.getMessage().contains("acme/v7 need ~800 MiB outside the heap"), e.getMessage());
    assertTrue(e.getMessage().contains("allows them 768 MiB (the 2048 MiB of memory this instance has, less its 1024"
        + " MiB heap and ~256 MiB the JVM takes itself)"), e.getMessage());
  }
}
