package io.visualsearch.indexformat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardVectorsTest {

  @TempDir
  Path dir;

  /** Sparse, ascending ids over several fence blocks (and a partial last one), as SKU hashes are. */
  private static long[] ids(int n) {
    long[] ids = new long[n];
    Random r = new Random(7);
    long id = 1_000;
    for (int i = 0; i < n; i++) {
      id += 1 + r.nextInt(1_000_000);
      ids[i] = id;
    }
    return ids;
  }

  private static float[] rows(int n, int d) {
    float[] rows = new float[n * d];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = i * 0.25f - 7f;
    }
    return rows;
  }

  @Test
  void everyIdReadsBackItsOwnRowAndUnknownIdsAreAbsent() throws Exception {
    int n = 3 * ShardVectors.FENCE_EVERY + 5;
    int d = 6;
    long[] ids = ids(n);
    float[] rows = rows(n, d);
    Path file = dir.resolve("shard-000.vectors");
    ShardVectors.write(file, ids, rows, d);
    assertEquals(ShardVectors.fileBytes(d, n), Files.size(file));
    try (ShardVectors v = ShardVectors.open(file, d, n)) {
      // The reader keeps working once its file is gone: search-api unlinks it right after opening.
      Files.delete(file);
      float[] into = new float[d];
      for (int i = 0; i < n; i++) {
        assertTrue(v.read(ids[i], into), "id " + ids[i]);
        float[] expected = new float[d];
        System.arraycopy(rows, i * d, expected, 0, d);
        assertArrayEquals(expected, into, "row " + i);
      }
      assertFalse(v.read(ids[0] - 1, into), "below the first id");
      assertFalse(v.read(ids[n - 1] + 1, into), "past the last id");
      assertFalse(v.read(ids[ShardVectors.FENCE_EVERY] + 1, into), "between two ids of a block");
      assertFalse(v.read(ids[ShardVectors.FENCE_EVERY] - 1, into), "just before a fence");
    }
  }

  @Test
  void aShardIsReadThroughInPagesOfRowsWithTheirIds() throws Exception {
    int n = 2 * ShardVectors.FENCE_EVERY + 9;
    int d = 5;
    long[] ids = ids(n);
    float[] rows = rows(n, d);
    Path file = dir.resolve("shard-001.vectors");
    ShardVectors.write(file, ids, rows, d);
    try (ShardVectors v = ShardVectors.open(file, d, n)) {
      ShardVectors.Rows first = v.rows(0, 100);
      ShardVectors.Rows rest = v.rows(100, n - 100);
      assertArrayEquals(java.util.Arrays.copyOfRange(ids, 0, 100), first.ids());
      assertArrayEquals(java.util.Arrays.copyOfRange(rows, 0, 100 * d), first.vectors());
      assertArrayEquals(java.util.Arrays.copyOfRange(ids, 100, n), rest.ids());
      assertArrayEquals(java.util.Arrays.copyOfRange(rows, 100 * d, n * d), rest.vectors());
      assertThrows(IllegalArgumentException.class, () -> v.rows(n - 1, 2), "past the last row");
    }
  }

  @Test
  void anEmptyShardOpensAndHoldsNothing() throws Exception {
    Path file = dir.resolve("empty.vectors");
    ShardVectors.write(file, new long[0], new float[0], 4);
    try (ShardVectors v = ShardVectors.open(file, 4, 0)) {
      assertFalse(v.read(1, new float[4]));
    }
  }

  @Test
  void writerRefusesUnorderedIdsAndMismatchedRows() {
    Path file = dir.resolve("bad.vectors");
    assertThrows(IllegalArgumentException.class, () -> ShardVectors.write(file, new long[] {2, 1}, new float[4], 2));
    assertThrows(IllegalArgumentException.class, () -> ShardVectors.write(file, new long[] {1, 1}, new float[4], 2));
    assertThrows(IllegalArgumentException.class, () -> ShardVectors.write(file, new long[] {1, 2}, new float[3], 2));
  }

  @Test
  void aFileThatDoesNotMatchTheManifestOrItselfIsRefused() throws Exception {
    int n = 100;
    int d = 3;
    long[] ids = ids(n);
    Path file = dir.resolve("shard-000.vectors");
    ShardVectors.write(file, ids, rows(n, d), d);

    CorruptIndexException wrongShape = assertThrows(CorruptIndexException.class, () -> ShardVectors.open(file, 4, n));
    assertTrue(wrongShape.getMessage().contains("100 vectors of dimension 3"), wrongShape.getMessage());
    assertThrows(CorruptIndexException.class, () -> ShardVectors.open(file, d, n + 1));

    Path truncated = dir.resolve("truncated.vectors");
    Files.write(truncated, java.util.Arrays.copyOf(Files.readAllBytes(file), (int) Files.size(file) - 4));
    CorruptIndexException shortFile = assertThrows(CorruptIndexException.class, () -> ShardVectors.open(truncated, d, n));
    assertTrue(shortFile.getMessage().contains("bytes"), shortFile.getMessage());

    Path notOurs = dir.resolve("faiss-file.vectors");
    Files.write(notOurs, new byte[(int) Files.size(file)]);
    assertThrows(CorruptIndexException.class, () -> ShardVectors.open(notOurs, d, n));

    // Swap two ids: the size and header still match, the order does not.
    try (FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(ids[41]).putLong(ids[40]).flip();
      c.write(b, ShardVectors.HEADER_BYTES + 40L * Long.BYTES);
    }
    CorruptIndexException disorder = assertThrows(CorruptIndexException.class, () -> ShardVectors.open(file, d, n));
    assertTrue(disorder.getMessage().contains("out of order at row 41"), disorder.getMessage());
  }

  @Test
  void fileChecksumMatchesTheInMemoryOne() throws Exception {
    Path file = dir.resolve("x.vectors");
    ShardVectors.write(file, ids(70), rows(70, 2), 2);
    byte[] bytes = Files.readAllBytes(file);
    assertEquals(Sha256.hex(bytes), Sha256.hex(file));
    Sha256.verify("x.vectors", file, bytes.length, Sha256.hex(bytes));
    assertThrows(CorruptIndexException.class, () -> Sha256.verify("x.vectors", file, bytes.length, Sha256.hex(new byte[1])));
  }
}
