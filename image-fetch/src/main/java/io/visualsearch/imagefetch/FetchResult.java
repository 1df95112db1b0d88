package io.visualsearch.imagefetch;

import java.net.URI;

/** The outcome of {@link ImageFetcher#fetch}. */
public sealed interface FetchResult {

  /**
   * The image bytes as served (not yet validated: that is image-validation's job), with the
   * validators to send next time for a conditional GET. {@code etag}/{@code lastModified} are
   * null when the server sent none.
   */
  record Fetched(byte[] body, String contentType, String etag, String lastModified, URI finalUrl)
      implements FetchResult {

    public CacheValidators validators() {
      return new CacheValidators(etag, lastModified);
    }
  }

  /** 304: the copy fetched with the given validators is still current. */
  record NotModified(URI finalUrl) implements FetchResult {}

  /**
   * A failure after retries. {@code retriable} says whether trying again later may help;
   * {@code httpStatus} is 0 when no HTTP response was involved.
   */
  record Failed(FailureCode code, String message, boolean retriable, int httpStatus) implements FetchResult {}
}
