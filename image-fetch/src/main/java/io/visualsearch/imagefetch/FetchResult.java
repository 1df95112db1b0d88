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
   * {@code httpStatus} is 0 when no HTTP response was involved; {@code redirectedTo} is the URL
   * that failed when it was a redirect's target (the hops before it answered), else null.
   */
  record Failed(FailureCode code, String message, boolean retriable, int httpStatus, URI redirectedTo)
      implements FetchResult {

    public Failed(FailureCode code, String message, boolean retriable, int httpStatus) {
      this(code, message, retriable, httpStatus, null);
    }

    Failed at(URI target) {
      return new Failed(code, message, retriable, httpStatus, target);
    }
  }
}
