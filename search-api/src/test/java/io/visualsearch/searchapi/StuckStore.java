package io.visualsearch.searchapi;

import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ScriptedS3;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

/**
 * An object store whose reads hang until released, then find nothing: what a store stalled on a
 * long transfer looks like to its callers. Listing answers at once, with nothing.
 */
public final class StuckStore {

  public final CountDownLatch answers = new CountDownLatch(1);
  /** Reads that reached the store (waiting now, or answered after the release). */
  public final AtomicInteger reads = new AtomicInteger();
  public final ObjectStore store = ScriptedS3.started("stuck", (client, method, args) -> {
    if (method.equals("listObjectsV2")) {
      return ListObjectsV2Response.builder().build();
    }
    reads.incrementAndGet();
    answers.await();
    throw NoSuchKeyException.builder().statusCode(404).message("no such key").build();
  });
}
