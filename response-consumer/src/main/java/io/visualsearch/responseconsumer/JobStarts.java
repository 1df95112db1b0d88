package io.visualsearch.responseconsumer;

import io.visualsearch.indexformat.IndexLayout;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.pipeline.PoisonRecordException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Counts the starts of one publication's similar-items job in the object store, so that a job
 * which kills the process stops being retried. The loop commits a record only once its handler
 * returns; a job that ends the JVM (FAISS's native memory past the container's limit, an
 * OutOfMemoryError with ExitOnOutOfMemoryError) is read again by every restart and dies at the
 * same point, for ever, and the archive of answers, in the same process, stops with it. A job
 * started {@code maxStarts} times without ending is dead-lettered instead. The count lives beside
 * the files it is about ({@code similar/<tenant>/_starts/<version>}, never a {@code .json} file, so
 * never taken for a product's) and is removed when the job ends in any way the process survives.
 */
final class JobStarts {

  private final ObjectStore store;
  private final int maxStarts;
  /** The count key of the job running now, null between jobs; guarded by this. */
  private String inFlight;

  JobStarts(ObjectStore store, int maxStarts) {
    this.store = store;
    this.maxStarts = maxStarts;
  }

  static String key(String tenant, String version) {
    return "similar/" + IndexLayout.validTenant(tenant) + "/_starts/" + IndexLayout.validVersion(version);
  }

  /** Records one more start; poison when {@code maxStarts} earlier starts never ended. */
  synchronized void starting(String tenant, String version) throws PoisonRecordException {
    String key = key(tenant, version);
    Optional<Integer> earlier = store.get(key).map(o -> parse(new String(o.bytes(), StandardCharsets.UTF_8)));
    int started = earlier.orElse(0);
    if (started >= maxStarts) {
      store.delete(key);
      throw new PoisonRecordException("job-crashed", "the similar-items job of " + tenant + " " + version + " was"
          + " started " + started + " times and never ended: the process died under it each time (native memory"
          + " past the container's limit?); the next publication computes the tenant's similar items");
    }
    store.put(key, Integer.toString(started + 1).getBytes(StandardCharsets.UTF_8), "text/plain");
    inFlight = key;
  }

  /** The job ended (done, skipped, refused or failed) without taking the process with it. */
  synchronized void ended(String tenant, String version) {
    inFlight = null;
    store.delete(key(tenant, version));
  }

  /**
   * The service is stopping on request (a rolling deploy, a node drain): the job in flight, if
   * any, may not end before the process does (a shard download of minutes, a native FAISS call
   * that ignores the interrupt), and its start is taken back so that routine stops never add up
   * to {@code job-crashed}. Should it end after all, {@link #ended} removes the count as usual.
   */
  void plannedStop() {
    String key;
    // Taken under the lock, written outside it: the job thread's own store calls (ended) must not
    // wait on this one, nor this on theirs.
    synchronized (this) {
      key = inFlight;
      inFlight = null;
    }
    if (key == null) {
      return;
    }
    int started = store.get(key).map(o -> parse(new String(o.bytes(), StandardCharsets.UTF_8))).orElse(0);
    if (started <= 1) {
      store.delete(key);
    } else {
      store.put(key, Integer.toString(started - 1).getBytes(StandardCharsets.UTF_8), "text/plain");
    }
  }

  private static int parse(String text) {
    try {
      return Integer.parseInt(text.strip());
    } catch (NumberFormatException e) {
      return 0; // not ours, or torn: count from here
    }
  }
}
