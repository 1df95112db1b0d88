package io.visualsearch.catalogdownloader;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.visualsearch.catalogfeed.ProductHasher;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Validators of the last feed download, for a conditional GET next time.
 *
 * @param sourceSha256 the sha256 of the feed's URL without user info, never the URL: it may carry
 *     the retailer's token or signature, and the file lives in the deployment's bucket that every
 *     service reads (a file written with the URL itself, by an earlier release, is deleted when
 *     read: one unconditional download)
 * @param encoding how that download's rows were hashed ({@link ProductHasher#ENCODING_VERSION}): a
 *     release that changes it reads every feed again, the ones whose server answers "not modified"
 *     included, or their products kept the old normalisation for as long as the file did not change
 *     (0 in files written before it was kept)
 */
public record SourceState(
    @JsonProperty("source_sha256") String sourceSha256,
    @JsonProperty("etag") String etag,
    @JsonProperty("last_modified") String lastModified,
    @JsonProperty("encoding") int encoding) {

  static final SourceState NONE = new SourceState("", null, null, ProductHasher.ENCODING_VERSION);

  /** A download of {@code source}'s validators, its rows hashed as this release hashes them. */
  static SourceState of(String source, String etag, String lastModified) {
    return new SourceState(sha256(source), etag, lastModified, ProductHasher.ENCODING_VERSION);
  }

  /** Whether a conditional download may rest on these: same source, rows hashed as now. */
  boolean validFor(String source) {
    return sourceSha256.equals(sha256(source)) && encoding == ProductHasher.ENCODING_VERSION;
  }

  /**
   * The sha256 of the URL without its user info: a password is no part of which file the
   * validators are for, and an unsalted hash of one in a bucket many read could be guessed at.
   */
  static String sha256(String source) {
    String withoutUserInfo = source;
    try {
      withoutUserInfo = FeedLocation.withoutUserInfo(new URI(source));
    } catch (URISyntaxException e) {
      // hashed as given: it is compared with itself only
    }
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(withoutUserInfo.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
