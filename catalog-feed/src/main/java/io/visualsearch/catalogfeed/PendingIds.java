package io.visualsearch.catalogfeed;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.InflaterInputStream;
import java.util.zip.ZipException;

/**
 * Ids a sync may have published without saving the snapshot that records them: its upserts and
 * tombstones, written down before the first send and forgotten once the snapshot is saved. Until
 * then the snapshot cannot be trusted for these ids — the topic holds the snapshot's version or the
 * one sent, nobody knows which — so the next diff ({@link CatalogDiffer}) sends each again: the
 * feed's version if the feed has the id, else a tombstone.
 *
 * <p>Two kinds of id, two encodings, because the set can be a whole catalog (a first load, a
 * re-price of everything):
 *
 * <ul>
 *   <li>An id the snapshot it was written against holds is kept as a 64-bit hash of the id. The
 *       next diff only asks "is this id pending?" of ids it has in full anyway (from the feed or
 *       the snapshot): 8 bytes an id, instead of a second copy of millions of strings.
 *   <li>An id the snapshot does not hold (a product new in the unfinished sync) is kept in full:
 *       if it left the feed since, its tombstone needs the key, and nothing else has it.
 * </ul>
 *
 * A hash collision makes an id look pending that is not: one redundant upsert, never a lost change.
 */
public final class PendingIds {

  private static final int MAGIC = 0x56535049; // "VSPI"
  private static final int FORMAT_VERSION = 1;
  private static final PendingIds EMPTY = new PendingIds(new long[0], new String[0]);

  /** Sorted, distinct: hashes of pending ids that the snapshot holds. */
  private final long[] snapshotIdHashes;
  /** Sorted, distinct: pending ids that the snapshot does not hold. */
  private final String[] newIds;

  private PendingIds(long[] snapshotIdHashes, String[] newIds) {
    this.snapshotIdHashes = snapshotIdHashes;
    this.newIds = newIds;
  }

  public static PendingIds empty() {
    return EMPTY;
  }

  /**
   * The ids a topic holds for a tenant whose snapshot is lost: none is in a snapshot, so each is
   * kept in full and the next diff sends each again, tombstoned if the feed no longer has it.
   */
  public static PendingIds heldByTopic(Collection<String> ids) {
    return of(CatalogSnapshot.empty(), ids);
  }

  /** {@code ids} about to be sent, recorded against {@code snapshot}, the last one saved. */
  static PendingIds of(CatalogSnapshot snapshot, Collection<String> ids) {
    long[] hashes = new long[ids.size()];
    int h = 0;
    List<String> fresh = new ArrayList<>();
    for (String id : ids) {
      if (snapshot.contains(id)) {
        hashes[h++] = idHash(id);
      } else {
        fresh.add(id);
      }
    }
    long[] sorted = Arrays.copyOf(hashes, h);
    Arrays.sort(sorted);
    String[] names = fresh.toArray(String[]::new);
    Arrays.sort(names);
    return new PendingIds(distinct(sorted), distinct(names));
  }

  /** The same ids, however they were encoded (two JDKs' zlib may compress one set differently). */
  @Override
  public boolean equals(Object o) {
    return o instanceof PendingIds p && Arrays.equals(snapshotIdHashes, p.snapshotIdHashes)
        && Arrays.equals(newIds, p.newIds);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(snapshotIdHashes) + Arrays.hashCode(newIds);
  }

  public boolean isEmpty() {
    return snapshotIdHashes.length == 0 && newIds.length == 0;
  }

  /** How many ids are pending (an id hashed like another counts once). */
  public int size() {
    return snapshotIdHashes.length + newIds.length;
  }

  /** True when {@code id} may have been sent (and, rarely, when another id's hash equals its). */
  public boolean contains(String id) {
    if (isEmpty()) {
      return false;
    }
    return Arrays.binarySearch(newIds, id) >= 0
        || snapshotIdHashes.length > 0 && Arrays.binarySearch(snapshotIdHashes, idHash(id)) >= 0;
  }

  /** The pending ids the snapshot did not hold, sorted: each needs a tombstone if it left the feed. */
  List<String> newIds() {
    return Collections.unmodifiableList(Arrays.asList(newIds));
  }

  public byte[] toBytes() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(16 + snapshotIdHashes.length * 8 + newIds.length * 12);
    try (DataOutputStream out = new DataOutputStream(new DeflaterOutputStream(bytes))) {
      out.writeInt(MAGIC);
      out.writeInt(FORMAT_VERSION);
      out.writeInt(snapshotIdHashes.length);
      for (long hash : snapshotIdHashes) {
        out.writeLong(hash);
      }
      out.writeInt(newIds.length);
      for (String id : newIds) {
        byte[] utf8 = id.getBytes(StandardCharsets.UTF_8);
        out.writeShort(utf8.length); // ids of a snapshot are at most 65535 bytes (CatalogSnapshot#toBytes)
        out.write(utf8);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e); // in-memory stream: cannot happen
    }
    return bytes.toByteArray();
  }

  /** @throws IOException when the bytes are not a pending set this version can read */
  public static PendingIds fromBytes(byte[] data) throws IOException {
    try (DataInputStream in = new DataInputStream(new InflaterInputStream(new ByteArrayInputStream(data)))) {
      if (in.readInt() != MAGIC) {
        throw new IOException("not a pending id set");
      }
      int version = in.readInt();
      if (version != FORMAT_VERSION) {
        throw new IOException("unsupported pending id set version " + version);
      }
      long[] hashes = new long[count(in)];
      for (int i = 0; i < hashes.length; i++) {
        hashes[i] = in.readLong();
      }
      String[] ids = new String[count(in)];
      for (int i = 0; i < ids.length; i++) {
        byte[] utf8 = new byte[in.readUnsignedShort()];
        in.readFully(utf8);
        ids[i] = new String(utf8, StandardCharsets.UTF_8);
      }
      if (in.read() != -1) {
        throw new IOException("corrupt pending id set: trailing bytes");
      }
      // Sorted as written; sorting again costs little and keeps lookups right whatever wrote them.
      Arrays.sort(hashes);
      Arrays.sort(ids);
      return new PendingIds(hashes, ids);
    } catch (EOFException e) {
      throw new IOException("corrupt pending id set: truncated", e);
    } catch (ZipException e) {
      throw new IOException("corrupt pending id set: " + e.getMessage(), e);
    }
  }

  private static int count(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0) {
      throw new IOException("corrupt pending id set: negative count");
    }
    return n;
  }

  /**
   * SHA-256 of the id's UTF-8 bytes, first 64 bits: stored, so it must be the same in every JVM and
   * release. String.hashCode's 32 bits would not do: a million pending ids against a million feed
   * ids make hundreds of false matches; 64 bits, one chance in twenty million of a single one.
   */
  static long idHash(String id) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.UTF_8));
      return ByteBuffer.wrap(digest).getLong();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is mandatory in every JRE", e);
    }
  }

  private static long[] distinct(long[] sorted) {
    int n = 0;
    for (int i = 0; i < sorted.length; i++) {
      if (i == 0 || sorted[i] != sorted[i - 1]) {
        sorted[n++] = sorted[i];
      }
    }
    return n == sorted.length ? sorted : Arrays.copyOf(sorted, n);
  }

  private static String[] distinct(String[] sorted) {
    int n = 0;
    for (int i = 0; i < sorted.length; i++) {
      if (i == 0 || !sorted[i].equals(sorted[i - 1])) {
        sorted[n++] = sorted[i];
      }
    }
    return n == sorted.length ? sorted : Arrays.copyOf(sorted, n);
  }
}
