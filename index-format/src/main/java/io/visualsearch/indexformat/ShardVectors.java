package io.visualsearch.indexformat;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * The exact vectors of one quantised shard, read from local disk to rescore the shard's
 * candidates: the product-quantised index in memory finds them, these put them in their exact
 * order. Only a sparse sample of the ids is held in memory (one in {@value #FENCE_EVERY}); each
 * lookup reads one block of ids and one vector with positional reads, so the file lives in the
 * operating system's page cache, not in the process (index-builder/RATIONALE.md).
 *
 * <p>Layout, little-endian: magic {@code VSXV}, format (int 1), dimension (int), count (long),
 * then {@code count} ids in ascending order (long each), then {@code count} rows of {@code
 * dimension} floats, row i belonging to id i.
 */
public final class ShardVectors implements AutoCloseable {

  /**
   * Candidates beyond k a reader asks a quantised shard for and rescores: on the shipped model's
   * 200,000-vector gallery, k + 16 rescored finds 0.976 of the true ten at the builder's default
   * nprobe of 16 and 0.998 at 64 (index-builder/RATIONALE.md).
   */
  public static final int RESCORE_EXTRA_CANDIDATES = 16;

  static final int MAGIC = 0x56585356; // "VSXV" read little-endian
  static final int FORMAT = 1;
  static final int HEADER_BYTES = 4 + 4 + 4 + 8;
  static final int FENCE_EVERY = 64;

  private final FileChannel channel;
  private final String name;
  private final int dimension;
  private final long count;
  private final long[] fences;

  private ShardVectors(FileChannel channel, String name, int dimension, long count, long[] fences) {
    this.channel = channel;
    this.name = name;
    this.dimension = dimension;
    this.count = count;
    this.fences = fences;
  }

  /** Bytes of a file holding {@code count} vectors of {@code dimension}. */
  public static long fileBytes(int dimension, long count) {
    return HEADER_BYTES + count * Long.BYTES + count * dimension * (long) Float.BYTES;
  }

  /**
   * Writes {@code ids} (ascending) and their row-major {@code rows} to {@code file}.
   *
   * @throws IllegalArgumentException if the ids are not strictly ascending or the rows do not match
   */
  public static void write(Path file, long[] ids, float[] rows, int dimension) throws IOException {
    if (rows.length != (long) ids.length * dimension) {
      throw new IllegalArgumentException(ids.length + " ids but " + rows.length + " floats of dimension " + dimension);
    }
    for (int i = 1; i < ids.length; i++) {
      if (ids[i] <= ids[i - 1]) {
        throw new IllegalArgumentException("ids must be strictly ascending: " + ids[i - 1] + " then " + ids[i]);
      }
    }
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
      ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
      b.putInt(MAGIC).putInt(FORMAT).putInt(dimension).putLong(ids.length);
      for (long id : ids) {
        b = drainIfFull(out, b, Long.BYTES);
        b.putLong(id);
      }
      for (float f : rows) {
        b = drainIfFull(out, b, Float.BYTES);
        b.putFloat(f);
      }
      out.write(b.array(), 0, b.position());
    }
  }

  private static ByteBuffer drainIfFull(OutputStream out, ByteBuffer b, int next) throws IOException {
    if (b.remaining() < next) {
      out.write(b.array(), 0, b.position());
      b.clear();
    }
    return b;
  }

  /**
   * Opens a file written by {@link #write}, checking its header, its size and the order of every
   * id. The file may be deleted once open: the reader keeps its data until {@link #close()}.
   *
   * @param expectedDimension the manifest's dimension
   * @param expectedCount the vectors of the shard it belongs to
   */
  public static ShardVectors open(Path file, int expectedDimension, long expectedCount)
      throws IOException, CorruptIndexException {
    String name = file.getFileName().toString();
    FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
    try {
      ByteBuffer header = read(channel, 0, HEADER_BYTES, name);
      int magic = header.getInt();
      int format = header.getInt();
      int dimension = header.getInt();
      long count = header.getLong();
      if (magic != MAGIC || format != FORMAT) {
        throw new CorruptIndexException(name + " is not a shard vectors file of format " + FORMAT);
      }
      if (dimension != expectedDimension || count != expectedCount) {
        throw new CorruptIndexException(name + " holds " + count + " vectors of dimension " + dimension
            + ", the manifest says " + expectedCount + " of " + expectedDimension);
      }
      if (channel.size() != fileBytes(dimension, count)) {
        throw new CorruptIndexException(name + " is " + channel.size() + " bytes, " + count + " vectors of "
            + dimension + " need " + fileBytes(dimension, count));
      }
      long[] fences = new long[(int) ((count + FENCE_EVERY - 1) / FENCE_EVERY)];
      long previous = Long.MIN_VALUE;
      for (long first = 0; first < count; first += FENCE_EVERY) {
        int n = (int) Math.min(FENCE_EVERY, count - first);
        ByteBuffer ids = read(channel, HEADER_BYTES + first * Long.BYTES, n * Long.BYTES, name);
        for (int i = 0; i < n; i++) {
          long id = ids.getLong();
          if (first + i > 0 && id <= previous) {
            throw new CorruptIndexException(name + ": ids out of order at row " + (first + i));
          }
          if (i == 0) {
            fences[(int) (first / FENCE_EVERY)] = id;
          }
          previous = id;
        }
      }
      return new ShardVectors(channel, name, dimension, count, fences);
    } catch (IOException | CorruptIndexException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  public int dimension() {
    return dimension;
  }

  public long count() {
    return count;
  }

  /**
   * Copies the vector of {@code id} into {@code into} (of the file's dimension).
   *
   * @return false if the shard holds no such id
   */
  public boolean read(long id, float[] into) throws IOException {
    if (into.length != dimension) {
      throw new IllegalArgumentException("buffer of " + into.length + " floats for vectors of " + dimension);
    }
    int block = Arrays.binarySearch(fences, id);
    if (block < 0) {
      block = -block - 2; // the last fence below the id
      if (block < 0) {
        return false;
      }
    }
    long first = (long) block * FENCE_EVERY;
    int n = (int) Math.min(FENCE_EVERY, count - first);
    ByteBuffer ids = read(channel, HEADER_BYTES + first * Long.BYTES, n * Long.BYTES, name);
    long row = -1;
    int lo = 0;
    int hi = n - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      long at = ids.getLong(mid * Long.BYTES);
      if (at < id) {
        lo = mid + 1;
      } else if (at > id) {
        hi = mid - 1;
      } else {
        row = first + mid;
        break;
      }
    }
    if (row < 0) {
      return false;
    }
    long at = HEADER_BYTES + count * Long.BYTES + row * dimension * (long) Float.BYTES;
    read(channel, at, dimension * Float.BYTES, name).asFloatBuffer().get(into);
    return true;
  }

  /** Rows of the file: their ids and row-major vectors. */
  public record Rows(long[] ids, float[] vectors) {}

  /** Rows {@code from .. from + n - 1} in file order (ascending id), for reading a shard through. */
  public Rows rows(long from, int n) throws IOException {
    if (from < 0 || n < 0 || from + n > count) {
      throw new IllegalArgumentException("rows " + from + ".." + (from + n) + " outside the " + count + " of " + name);
    }
    if ((long) n * dimension * Float.BYTES > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(n + " rows of " + dimension + " floats do not fit one buffer");
    }
    long[] ids = new long[n];
    read(channel, HEADER_BYTES + from * Long.BYTES, n * Long.BYTES, name).asLongBuffer().get(ids);
    float[] vectors = new float[n * dimension];
    long at = HEADER_BYTES + count * Long.BYTES + from * dimension * (long) Float.BYTES;
    read(channel, at, n * dimension * Float.BYTES, name).asFloatBuffer().get(vectors);
    return new Rows(ids, vectors);
  }

  private static ByteBuffer read(FileChannel channel, long position, int bytes, String name) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    while (b.hasRemaining()) {
      if (channel.read(b, position + b.position()) < 0) {
        throw new IOException(name + " ends before byte " + (position + bytes));
      }
    }
    return b.flip();
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
