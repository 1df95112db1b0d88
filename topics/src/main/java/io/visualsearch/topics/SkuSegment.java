package io.visualsearch.topics;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * The limit on a sku that services store objects under, URL-encoded, as one key segment
 * ({@code image-state/<tenant>/<sku>}, {@code similar/<tenant>/<sku>.json}). The feed refuses a
 * row whose id breaks it with the same words the image-indexer would use, so a product is not
 * published only to be dead-lettered downstream, unsearchable until the retailer edits it.
 */
public final class SkuSegment {

  /**
   * MinIO refuses a key segment over 255 bytes (S3 a whole key over 1024, which a 63-character tenant
   * and this segment stay well under), less the {@code .json} of the similar-items file.
   */
  public static final int MAX_BYTES = 250;

  private SkuSegment() {}

  /** Null when {@code sku} fits one object-store key segment, else why not, as "is ... : shorten the id". */
  public static String problem(String sku) {
    // URL-encoded text is ASCII: its length is its size in bytes.
    int bytes = URLEncoder.encode(sku, StandardCharsets.UTF_8).length();
    return bytes <= MAX_BYTES ? null : "is " + bytes + " bytes once URL-encoded for object-store keys, over the "
        + MAX_BYTES + " allowed: shorten the id";
  }
}
