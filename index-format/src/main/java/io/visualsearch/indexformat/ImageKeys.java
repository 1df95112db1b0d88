package io.visualsearch.indexformat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Which image each indexed vector was computed from: {@code images.tsv}, one line
 * {@code <faiss id> TAB <image key>} per vector whose image is known, ids ascending (readers ignore
 * further columns, for a later builder to add). The key is the
 * first 64 bits of the image's sha256, in 16 hex digits. A reader can then tell an embedding
 * re-sent for an unchanged product (same image, same model) from a changed one without holding
 * the index's vectors. Held as two sorted arrays: 16 bytes a product.
 */
public final class ImageKeys {

  public static final String FILE = "images.tsv";

  private static final ImageKeys NONE = new ImageKeys(new long[0], new long[0]);

  private final long[] ids;
  private final long[] keys;

  private ImageKeys(long[] ids, long[] keys) {
    this.ids = ids;
    this.keys = keys;
  }

  /** No image known for any id (a version published before images.tsv existed). */
  public static ImageKeys none() {
    return NONE;
  }

  /** The key of a sha256 in hex; 0 (unknown) when the text is not one. */
  public static long of(String sha256Hex) {
    if (sha256Hex == null || sha256Hex.length() != 64) {
      return 0;
    }
    for (int i = 0; i < sha256Hex.length(); i++) {
      if (!HexFormat.isHexDigit(sha256Hex.charAt(i))) {
        return 0;
      }
    }
    return HexFormat.fromHexDigitsToLong(sha256Hex, 0, 16);
  }

  /** The file for ids in ascending order and their keys; ids whose key is 0 are left out. */
  public static byte[] write(long[] ascendingIds, long[] keys) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(ascendingIds.length * 36);
    HexFormat hex = HexFormat.of();
    for (int i = 0; i < ascendingIds.length; i++) {
      if (keys[i] != 0) {
        out.writeBytes((ascendingIds[i] + "\t" + hex.toHexDigits(keys[i]) + "\n").getBytes(StandardCharsets.UTF_8));
      }
    }
    return out.toByteArray();
  }

  public static ImageKeys parse(byte[] bytes) throws CorruptIndexException {
    String[] lines = new String(bytes, StandardCharsets.UTF_8).split("\n");
    long[] ids = new long[lines.length];
    long[] keys = new long[lines.length];
    int n = 0;
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      if (line.isEmpty()) {
        continue;
      }
      int tab = line.indexOf('\t');
      // Columns after the key are a later builder's additions, which this reader has no use for.
      int end = tab < 0 ? -1 : line.indexOf('\t', tab + 1);
      end = end < 0 ? line.length() : end;
      try {
        ids[n] = Long.parseLong(line.substring(0, tab));
        keys[n] = HexFormat.fromHexDigitsToLong(line, tab + 1, end);
      } catch (RuntimeException e) {
        throw new CorruptIndexException(FILE + " line " + (i + 1) + " is not '<id>\\t<16 hex digits>'");
      }
      if (end - tab - 1 != 16 || n > 0 && ids[n] <= ids[n - 1]) {
        throw new CorruptIndexException(FILE + " line " + (i + 1) + " is out of order or malformed");
      }
      n++;
    }
    return new ImageKeys(Arrays.copyOf(ids, n), Arrays.copyOf(keys, n));
  }

  /** The image key of a vector's id, 0 when unknown. */
  public long keyOf(long id) {
    int at = Arrays.binarySearch(ids, id);
    return at < 0 ? 0 : keys[at];
  }

  public int size() {
    return ids.length;
  }
}
