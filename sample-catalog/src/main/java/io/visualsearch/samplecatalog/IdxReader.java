package io.visualsearch.samplecatalog;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reads the IDX files of (Fashion-)MNIST, gzipped as Debian ships them. Format: a big-endian
 * magic of two zero bytes, a type byte (0x08 = unsigned byte) and the number of dimensions, then
 * one big-endian int per dimension, then the data in row-major order.
 */
final class IdxReader {

  private static final int UNSIGNED_BYTE = 0x08;

  /** The dimensions and raw unsigned bytes of one IDX file. */
  record IdxData(int[] dimensions, byte[] data) {}

  private IdxReader() {}

  static IdxData read(Path gzipped, int expectedDimensions) throws IOException {
    try (InputStream raw = Files.newInputStream(gzipped);
        DataInputStream in = new DataInputStream(new BufferedInputStream(new GZIPInputStream(raw, 1 << 16)))) {
      int magic = in.readInt();
      int type = (magic >>> 8) & 0xFF;
      int dims = magic & 0xFF;
      if ((magic >>> 16) != 0 || type != UNSIGNED_BYTE || dims != expectedDimensions) {
        throw new IOException(String.format("%s: not an unsigned-byte IDX file with %d dimensions (magic 0x%08X)",
            gzipped, expectedDimensions, magic));
      }
      int[] dimensions = new int[dims];
      long total = 1;
      for (int i = 0; i < dims; i++) {
        dimensions[i] = in.readInt();
        if (dimensions[i] <= 0) {
          throw new IOException(gzipped + ": dimension " + i + " is " + dimensions[i]);
        }
        total *= dimensions[i];
      }
      if (total > Integer.MAX_VALUE - 8) {
        throw new IOException(gzipped + ": " + total + " bytes do not fit one array");
      }
      byte[] data = new byte[(int) total];
      in.readFully(data);
      return new IdxData(dimensions, data);
    }
  }
}
