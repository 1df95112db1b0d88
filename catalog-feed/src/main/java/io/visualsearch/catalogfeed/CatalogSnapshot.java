package io.visualsearch.catalogfeed;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.InflaterInputStream;

/**
 * What a tenant's catalog looked like after the last applied feed: product id to content hash.
 * Persisted between runs (e.g. in the object store) via {@link #toBytes()} /
 * {@link #fromBytes(byte[])}: a versioned header, then entries sorted by id, deflated — a
 * 60,000-product catalog takes a few hundred kilobytes.
 */
public final class CatalogSnapshot {

  private static final int MAGIC = 0x56534353; // "VSCS"
  private static final int FORMAT_VERSION = 1;

  private final Map<String, Long> hashes;

  private CatalogSnapshot(Map<String, Long> hashes) {
    this.hashes = hashes;
  }

  public static CatalogSnapshot empty() {
    return new CatalogSnapshot(Map.of());
  }

  public static CatalogSnapshot of(Map<String, Long> hashes) {
    return new CatalogSnapshot(Map.copyOf(hashes));
  }

  /** Takes ownership of the map (no copy): for builders that just filled it. */
  static CatalogSnapshot adopt(HashMap<String, Long> hashes) {
    return new CatalogSnapshot(Collections.unmodifiableMap(hashes));
  }

  public int size() {
    return hashes.size();
  }

  public boolean contains(String id) {
    return hashes.containsKey(id);
  }

  /** The content hash, or null when the id is not in the catalog. */
  public Long hash(String id) {
    return hashes.get(id);
  }

  public Set<String> ids() {
    return hashes.keySet();
  }

  public byte[] toBytes() {
    List<String> ids = new ArrayList<>(hashes.keySet());
    Collections.sort(ids); // same catalog, same bytes
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(16 + ids.size() * 12);
    try (DataOutputStream out = new DataOutputStream(
        new DeflaterOutputStream(bytes, new Deflater(Deflater.BEST_COMPRESSION), 1 << 14))) {
      out.writeInt(MAGIC);
      out.writeInt(FORMAT_VERSION);
      out.writeInt(ids.size());
      for (String id : ids) {
        byte[] utf8 = id.getBytes(StandardCharsets.UTF_8);
        if (utf8.length > 0xFFFF) {
          throw new IllegalArgumentException("product id longer than 65535 bytes");
        }
        out.writeShort(utf8.length);
        out.write(utf8);
        out.writeLong(hashes.get(id));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e); // in-memory stream: cannot happen
    }
    return bytes.toByteArray();
  }

  /** @throws IOException when the bytes are not a snapshot this version can read */
  public static CatalogSnapshot fromBytes(byte[] data) throws IOException {
    try (DataInputStream in = new DataInputStream(new InflaterInputStream(new ByteArrayInputStream(data)))) {
      if (in.readInt() != MAGIC) {
        throw new IOException("not a catalog snapshot");
      }
      int version = in.readInt();
      if (version != FORMAT_VERSION) {
        throw new IOException("unsupported catalog snapshot version " + version);
      }
      int count = in.readInt();
      if (count < 0) {
        throw new IOException("corrupt catalog snapshot: negative count");
      }
      HashMap<String, Long> hashes = new HashMap<>(Math.min(count, 1 << 20) * 4 / 3 + 1);
      for (int i = 0; i < count; i++) {
        byte[] utf8 = new byte[in.readUnsignedShort()];
        in.readFully(utf8);
        hashes.put(new String(utf8, StandardCharsets.UTF_8), in.readLong());
      }
      if (in.read() != -1) {
        throw new IOException("corrupt catalog snapshot: trailing bytes");
      }
      return adopt(hashes);
    } catch (EOFException e) {
      throw new IOException("corrupt catalog snapshot: truncated", e);
    } catch (java.util.zip.ZipException e) {
      throw new IOException("corrupt catalog snapshot: " + e.getMessage(), e);
    }
  }
}
