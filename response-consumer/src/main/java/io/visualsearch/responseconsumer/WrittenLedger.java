package io.visualsearch.responseconsumer;

import com.google.common.hash.HashFunction;
import com.google.common.hash.Hashing;
import io.visualsearch.indexformat.IndexLayout;
import io.visualsearch.objectstore.ObjectStore;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.io.FileUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a tenant's similar-items runs wrote, in {@code similar/<tenant>/_ledger} (gzip, one line a
 * product, its URL-encoded sku and a 64-bit mark, in sku order): per product, a mark of its file's
 * content (everything but the version and time it was written) bound to the ETag the store gave
 * the file. A run skips the write of a file whose content it would write again and whose listed
 * ETag is still the one marked: a tenant republished every few minutes no longer rewrites its
 * millions of files each time, only those whose neighbours or vector changed.
 *
 * <p>The ETag binding makes a stale or lost ledger safe: a file rewritten since (by a run that
 * never saved the ledger, or by hand) lists another ETag, and is written again. Only that holds of
 * the store's ETags, not that they hash the content (SSE-KMS ones do not); a store whose PUT
 * answers no ETag only loses the skipping.
 */
final class WrittenLedger {

  private static final Logger log = LoggerFactory.getLogger(WrittenLedger.class);
  private static final String HEADER = "visual-search similar-items ledger v1";
  /** Marks no product can have: none written, or no file listed. */
  static final long NONE = 0;
  /** Marks tell writes apart, they guard against no adversary: 64 bits of a fast 128-bit hash. */
  private static final HashFunction FINGERPRINT = Hashing.murmur3_128();

  private final ObjectStore store;
  private final Path scratch;

  WrittenLedger(ObjectStore store, Path scratch) {
    this.store = store;
    this.scratch = scratch;
  }

  static String key(String tenant) {
    return "similar/" + IndexLayout.validTenant(tenant) + "/_ledger";
  }

  /**
   * The marks the tenant's ledger holds for {@code sorted} (sorted skus), by position; {@link
   * #NONE} for a product it does not name. A ledger that cannot be read counts as none: every file
   * is written once more.
   */
  long[] load(String tenant, List<String> sorted) {
    Path file = scratchFile();
    try {
      if (!store.download(key(tenant), file)) {
        return new long[sorted.size()];
      }
      return read(file, sorted);
    } catch (IOException | IllegalArgumentException e) {
      // Damaged (a truncated upload, another tool's object): costs one full rewrite, nothing else.
      log.warn("tenant {}: {} cannot be read ({}); every similar-items file is written again", tenant, key(tenant),
          e.toString());
      return new long[sorted.size()];
    } finally {
      FileUtils.deleteQuietly(file.toFile());
    }
  }

  private static long[] read(Path file, List<String> sorted) throws IOException {
    long[] marks = new long[sorted.size()];
    try (BufferedReader in = new BufferedReader(new InputStreamReader(
        new GZIPInputStream(Files.newInputStream(file)), StandardCharsets.UTF_8))) {
      if (!HEADER.equals(in.readLine())) {
        throw new IOException("its first line is not \"" + HEADER + "\"");
      }
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        int tab = line.indexOf('\t');
        if (tab < 0) {
          throw new IOException("a line without a tab");
        }
        int at = Collections.binarySearch(sorted, URLDecoder.decode(line.substring(0, tab), StandardCharsets.UTF_8));
        if (at >= 0) {
          marks[at] = HexFormat.fromHexDigitsToLong(line, tab + 1, line.length());
        }
      }
    }
    return marks;
  }

  /** Replaces the tenant's ledger with the marks of {@code sorted} that are not {@link #NONE}. */
  void save(String tenant, List<String> sorted, long[] marks) {
    Path file = scratchFile();
    try {
      try (BufferedWriter out = new BufferedWriter(new OutputStreamWriter(
          new GZIPOutputStream(Files.newOutputStream(file)), StandardCharsets.UTF_8))) {
        out.write(HEADER);
        out.write('\n');
        HexFormat hex = HexFormat.of();
        for (int i = 0; i < marks.length; i++) {
          if (marks[i] != NONE) {
            out.write(URLEncoder.encode(sorted.get(i), StandardCharsets.UTF_8));
            out.write('\t');
            out.write(hex.toHexDigits(marks[i]));
            out.write('\n');
          }
        }
      }
      store.put(key(tenant), file, "application/gzip");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      FileUtils.deleteQuietly(file.toFile());
    }
  }

  /**
   * The mark of a file whose content (written with a blank version and time) is {@code content}
   * and whose ETag's fingerprint is {@code etag}; {@link #NONE} when the store gave no ETag, which
   * binds nothing.
   */
  static long mark(byte[] content, long etag) {
    if (etag == NONE) {
      return NONE;
    }
    return nonNone(FINGERPRINT.newHasher().putBytes(content).putLong(etag).hash().asLong());
  }

  /**
   * An ETag as 64 bits, so that a listing of millions of files is held as a {@code long[]};
   * {@link #NONE} for none. Quotes are the header's syntax, not the tag's; stores differ in
   * keeping them.
   */
  static long etag(String etag) {
    String tag = etag == null ? "" : etag.replace("\"", "");
    if (tag.isEmpty()) {
      return NONE;
    }
    return nonNone(FINGERPRINT.hashString(tag, StandardCharsets.UTF_8).asLong());
  }

  private static long nonNone(long value) {
    return value == NONE ? 1 : value;
  }

  /** A file of this instance's scratch directory: a directory that cannot be written is ours to fix (retried). */
  private Path scratchFile() {
    try {
      Files.createDirectories(scratch);
      return Files.createTempFile(scratch, "ledger-", ".gz");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

}
