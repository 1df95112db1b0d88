package io.visualsearch.searchapi.http;

import io.visualsearch.searchapi.ApiException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.thread.Invocable;

/**
 * Reads request bodies on the request thread, which the upload holds until its last byte: so a
 * body must keep up with an {@link UploadPace}, and a refused request's body is drained only for
 * a moment. Jetty's idle timeout cannot do either (every byte restarts it), its
 * {@code HttpConfiguration.setMinRequestDataRate} is read by nothing in 12.1, and its
 * {@code MinimumDataRateHandler} divides the bytes of every request since start by one request's
 * age, so under any traffic it never trips.
 */
final class UploadReader {

  /**
   * How long a refused request's declared body is read and dropped before the connection is
   * closed under the rest: enough for twice the upload cap on a 32 Mbit/s link (a near-miss 413 or
   * 401 reaches the client instead of a reset), short enough that a client without a key holds a
   * request thread only this long per connection.
   */
  static final Duration DRAIN_BUDGET = Duration.ofSeconds(5);
  /** Starting size of a chunked body's buffer, which doubles as the body arrives. */
  private static final int FIRST_BUFFER_BYTES = 64 * 1024;
  /** A request whose body was given up on mid-read: draining it would only wait for the same client again. */
  private static final String ABANDONED = UploadReader.class.getName() + ".abandoned";

  /**
   * Refused bodies drained at once: a drain holds a request thread up to the drain budget, and a
   * request refused for its missing key costs its sender nothing, so beyond these the connection
   * is closed under the rest instead (a reset its client may see before the answer).
   */
  static final int MAX_CONCURRENT_DRAINS = 8;

  private final UploadPace pace;
  private final Duration drainBudget;
  private final UploadBudget budget;
  private final Admission reading;
  private final Semaphore drains = new Semaphore(MAX_CONCURRENT_DRAINS);

  /**
   * @param reading the request threads uploads may hold, a tenant's at most its share: a place is
   *     taken before the body is read and given back when the request is answered
   */
  UploadReader(UploadPace pace, Duration drainBudget, UploadBudget budget, Admission reading) {
    this.pace = pace;
    this.drainBudget = drainBudget;
    this.budget = budget;
    this.reading = reading;
  }

  /**
   * The whole body, at most {@code maxBytes}: 413 when it declares or turns out larger, 408 when it
   * falls behind the pace, 400 when the connection fails under it, 503 {@code overloaded} when the
   * {@link UploadBudget} has no room for it. Given up mid-read, the rest is left unread and Jetty
   * closes the connection after the answer. The body's reservation is held until the request's
   * handling ends (its answer written), since the body and what is parsed from it live that long.
   */
  byte[] read(Request request, String tenant, long maxBytes) {
    long declared = request.getLength();
    if (declared > maxBytes) {
      throw ApiException.tooLarge("payload_too_large", "the request body is " + declared + " bytes; at most "
          + maxBytes + " are accepted");
    }
    if (declared == 0) {
      return new byte[0];
    }
    // Bodies are read before admission, on request threads, which the body holds until its last
    // byte: a storefront's key (in every shopper's browser) trickling a byte now and then into many
    // small bodies held every request thread while its bytes stayed far within its share. Held
    // until the answer, so a tenant's requests, read and searched, never hold more than its share.
    Admission.Permit place = reading.enter(tenant);
    Request.addCompletionListener(request, failure -> place.close());
    // Reserved before a byte is read, so that a refusal costs nothing but the answer; a chunked
    // body reserves as its buffer grows.
    UploadBudget.Reservation reservation = declared > 0
        ? budget.reserve(tenant, UploadBudget.costOf(declared)) : budget.open(tenant);
    Request.addCompletionListener(request, failure -> reservation.close());
    // A declared length within the cap is the array's size: one copy of the body, never regrown or
    // trimmed. The reservation is made first, so a client claiming 10 MiB and sending nothing holds
    // budget, not more than it would by sending them.
    byte[] body = declared > 0 ? new byte[(int) declared] : new byte[0];
    int size = 0;
    long start = System.nanoTime();
    while (true) {
      Content.Chunk chunk = nextChunk(request, pace.deadlineNanos(start, size));
      if (chunk == null) {
        request.setAttribute(ABANDONED, Boolean.TRUE);
        throw new ApiException(408, "upload_too_slow", "the request body arrived slower than "
            + pace.minBytesPerSecond() + " bytes a second");
      }
      try {
        if (Content.Chunk.isFailure(chunk)) {
          request.setAttribute(ABANDONED, Boolean.TRUE);
          throw ApiException.badRequest("unreadable_body", "the request body could not be read completely");
        }
        ByteBuffer bytes = chunk.getByteBuffer();
        int n = bytes.remaining();
        if (size + (long) n > maxBytes) {
          request.setAttribute(ABANDONED, Boolean.TRUE);
          throw ApiException.tooLarge("payload_too_large", "the request body exceeds " + maxBytes + " bytes");
        }
        if (size + n > body.length) {
          if (declared > 0) {
            // More than declared: Jetty fails such a body itself; never grow past the reservation.
            request.setAttribute(ABANDONED, Boolean.TRUE);
            throw ApiException.badRequest("unreadable_body", "the request body is longer than its Content-Length");
          }
          body = grow(body, size + n, maxBytes, reservation, request);
        }
        bytes.duplicate().get(body, size, n);
        size += n;
        // A declared body is whole at its length: waiting for the end-of-content chunk as well
        // could wait for a demand that is not woken once the bytes are all in.
        if (chunk.isLast() || declared > 0 && size == declared) {
          return size == body.length ? body : Arrays.copyOf(body, size);
        }
      } finally {
        chunk.release();
      }
    }
  }

  /**
   * A chunked body's buffer, doubled (from {@link #FIRST_BUFFER_BYTES}, at most {@code maxBytes})
   * until it holds {@code needed} bytes, after the budget took the new size's cost: 503
   * {@code overloaded} when it has no room, and the rest of the body is left unread.
   */
  private static byte[] grow(byte[] body, int needed, long maxBytes, UploadBudget.Reservation reservation,
      Request request) {
    long capacity = Math.max(body.length, FIRST_BUFFER_BYTES);
    while (capacity < needed) {
      capacity *= 2;
    }
    capacity = Math.min(capacity, maxBytes);
    try {
      reservation.grow(UploadBudget.costOf(capacity) - reservation.held());
    } catch (ApiException e) {
      request.setAttribute(ABANDONED, Boolean.TRUE);
      throw e;
    }
    return Arrays.copyOf(body, (int) capacity);
  }

  /**
   * Reads and drops what is left of a refused request's body, if it declared at most
   * {@code maxBytes} and arrives within the drain budget: a connection closed with unread data is
   * reset by the kernel, often before the client has read the answer. Bodies of unknown length,
   * larger ones, slower ones and those beyond {@link #MAX_CONCURRENT_DRAINS} are left unread, and
   * Jetty closes the connection after the answer.
   */
  void discard(Request request, long maxBytes) {
    long length = request.getLength();
    if (length <= 0 || length > maxBytes || request.getAttribute(ABANDONED) != null || !drains.tryAcquire()) {
      return;
    }
    try {
      drain(request, length);
    } finally {
      drains.release();
    }
  }

  private void drain(Request request, long length) {
    long deadline = System.nanoTime() + drainBudget.toNanos();
    long drained = 0;
    while (true) {
      Content.Chunk chunk = nextChunk(request, deadline);
      if (chunk == null) {
        return;
      }
      drained += chunk.remaining();
      chunk.release();
      if (chunk.isLast() || Content.Chunk.isFailure(chunk) || drained >= length) {
        return;
      }
    }
  }

  /**
   * The next chunk of the body, or null when none arrived by {@code deadlineNanos}. Waiting is the
   * one blocking step, and it is bounded: the wake-up runs on Jetty's selector (it only counts a
   * latch down), so it needs no free pool thread even when every one is taken.
   */
  private static Content.Chunk nextChunk(Request request, long deadlineNanos) {
    while (true) {
      Content.Chunk chunk = request.read();
      if (chunk != null) {
        return chunk;
      }
      CountDownLatch arrived = new CountDownLatch(1);
      request.demand(Invocable.from(Invocable.InvocationType.NON_BLOCKING, arrived::countDown));
      try {
        long wait = deadlineNanos - System.nanoTime();
        if (wait <= 0 || !arrived.await(wait, TimeUnit.NANOSECONDS)) {
          return null;
        }
      } catch (InterruptedException e) {
        // A stopping server ends the wait like a deadline: the body is given up on either way.
        Thread.currentThread().interrupt();
        return null;
      }
    }
  }
}
