package io.visualsearch.catalogdownloader;

import io.visualsearch.catalogfeed.FeedRefusedException;
import java.io.IOException;

/**
 * A feed that cannot be had for a reason on the retailer's side, which trying again does not
 * change (its host answered 404, it is over the size limit, its object is gone): refused like a
 * malformed feed (422, exit 5, a dead letter), not failed like an outage of ours (503 and a retry).
 */
class FeedUnusableException extends IOException {

  private final FeedRefusedException.Reason reason;

  FeedUnusableException(FeedRefusedException.Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  FeedRefusedException refusal() {
    return new FeedRefusedException(reason, getMessage(), this);
  }
}
