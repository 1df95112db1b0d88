package io.visualsearch.indexformat;

import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Stable 63-bit FAISS ids for SKUs: the same tenant/sku gets the same id in every build and every
 * process, so deltas and tombstones can be matched against a loaded shard without a lookup table.
 * Collisions are possible in principle (about 1 in 10^5 for a 10M-product tenant); builders must
 * detect them and fail the build rather than let two products share a vector.
 */
public final class SkuIds {

  private SkuIds() {}

  public static long id(String tenant, String sku) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest((tenant + "/" + sku).getBytes(StandardCharsets.UTF_8));
      // FAISS uses -1 for "no result": keep ids non-negative.
      return ByteBuffer.wrap(d, 0, 8).getLong() & Long.MAX_VALUE;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
