package io.visualsearch.imagevalidation;

/** Why an image was refused; the message beside it says what the retailer should fix. */
public enum RejectReason {
  /** Zero bytes. */
  EMPTY,
  /** More bytes than the policy accepts, before any decoding. */
  TOO_LARGE_INPUT,
  /** Not image data at all (HTML error page, text, random bytes). */
  NOT_AN_IMAGE,
  /** An image, but in a format we do not accept (SVG, HEIC, AVIF, TIFF ...). */
  UNSUPPORTED_FORMAT,
  /** The data ends before the image does. */
  TRUNCATED,
  /** The decoder found the data inconsistent. */
  CORRUPT,
  /** Declared width × height, or one side, above the limit: refused from the header, before any allocation. */
  TOO_MANY_PIXELS,
  /** Smaller than the minimum side length. */
  TOO_SMALL,
  /** More than one frame (animated GIF, WebP or PNG). */
  ANIMATED,
  /**
   * A progressive JPEG with more scans than any encoder writes: each scan is another pass over
   * the whole image, so a few kilobytes of scan headers can cost minutes of decoding.
   */
  TOO_MANY_SCANS
}
