package io.visualsearch.imageindexer;

import io.visualsearch.imagefetch.FailureCode;
import io.visualsearch.imagefetch.FetchResult;
import io.visualsearch.imagevalidation.ValidationResult;
import io.visualsearch.pipeline.PoisonRecordException;
import java.util.Locale;

/**
 * Turns a failed download or a refused image into the dead-letter entry a retailer reads: a
 * short reason code for dashboards and a message that names the image_link and what to fix.
 */
final class Rejections {

  private static final int MAX_LINK_CHARS = 300;

  private Rejections() {}

  static PoisonRecordException fetchFailed(String imageLink, FetchResult.Failed failed) {
    return new PoisonRecordException("image-fetch-" + code(failed.code().name()),
        "image_link " + shown(imageLink) + " cannot be downloaded: " + failed.message());
  }

  static PoisonRecordException rejected(String imageLink, ValidationResult.Rejected rejected) {
    return new PoisonRecordException("image-rejected-" + code(rejected.reason().name()),
        "image_link " + shown(imageLink) + " is not a usable product image: " + rejected.message());
  }

  static PoisonRecordException gaveUp(String imageLink, FetchResult.Failed last, int rounds) {
    // A server too slow every time keeps its own reason: the retailer's fix differs from a host that is down.
    String reason = last.code() == FailureCode.TIMEOUT ? "image-fetch-timeout" : "image-host-unavailable";
    return new PoisonRecordException(reason,
        "image_link " + shown(imageLink) + " still failed after " + rounds + " rounds of retries: "
            + last.message() + "; the product is tried again when it next changes in the feed");
  }

  static PoisonRecordException hostFailing(String imageLink, String host) {
    return new PoisonRecordException("image-host-unavailable",
        "image_link " + shown(imageLink) + " not fetched: host " + host + " failed this catalog's other products'"
            + " images through all their retries in the last minutes; the product is tried again when it next"
            + " changes in the feed");
  }

  static PoisonRecordException tenantHostsFailing(String imageLink, FetchResult.Failed failure) {
    String reason = failure.code() == FailureCode.TIMEOUT ? "image-fetch-timeout" : "image-host-unavailable";
    return new PoisonRecordException(reason,
        "image_link " + shown(imageLink) + " failed and was not retried: " + failure.message() + "; this catalog's"
            + " image hosts are failing (products on several different hosts used up all their retries in the"
            + " last minutes): check that the image hosts named in the feed are up; the product is tried again"
            + " when it next changes in the feed");
  }

  static PoisonRecordException noImageLink() {
    return new PoisonRecordException("missing-image-link",
        "the product has no image_link: add one to the feed so it can be searched by image");
  }

  private static String code(String enumName) {
    return enumName.toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** Retailer text goes into a Kafka header: keep it bounded. */
  static String shown(String link) {
    return link.length() <= MAX_LINK_CHARS ? link : link.substring(0, MAX_LINK_CHARS) + "...";
  }
}
