package io.visualsearch.catalogfeed;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Content hash of a normalised product: SHA-256 over a length-prefixed, fixed-order encoding of
 * every field, truncated to 64 bits. Stable across runs and JVMs; a change to any field changes
 * it, formatting-only differences (whitespace, "12.9" vs "12.90") do not because the product is
 * normalised before hashing. The encoding version is part of the input: bump it to force a
 * full re-index when the normalisation changes.
 */
public final class ProductHasher {

  /**
   * Part of every hash; the downloader also stores it beside a feed's validators, so a feed its
   * server reports unchanged is still read again, and re-hashed, once this changes.
   */
  public static final int ENCODING_VERSION = 1;

  public long hash(Product p) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(ENCODING_VERSION);
      field(out, p.id());
      field(out, p.title());
      field(out, p.description());
      field(out, p.link());
      field(out, p.imageLink());
      out.writeInt(p.additionalImageLinks().size());
      for (String link : p.additionalImageLinks()) {
        field(out, link);
      }
      field(out, p.price().toString());
      field(out, p.salePrice() == null ? "" : p.salePrice().toString());
      field(out, p.availability().feedValue());
      field(out, p.brand());
      field(out, p.googleProductCategory());
      field(out, p.productType());
      field(out, p.gtin());
      field(out, p.condition());
      // Only when there is one: the hash of every product without a window stays what it was.
      if (!p.saleWindow().equals(SaleWindow.ALWAYS)) {
        out.writeLong(p.saleWindow().startMs());
        out.writeLong(p.saleWindow().endMs());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e); // in-memory stream: cannot happen
    }
    return ByteBuffer.wrap(sha256(bytes.toByteArray())).getLong();
  }

  private static void field(DataOutputStream out, String value) throws IOException {
    byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
    out.writeInt(utf8.length);
    out.write(utf8);
  }

  private static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is mandatory in every JRE", e);
    }
  }
}
