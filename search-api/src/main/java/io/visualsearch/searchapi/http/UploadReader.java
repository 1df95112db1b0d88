package io.visualsearch.searchapi.http;

import io.visualsearch.searchapi.ApiException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
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
  /** Starting size of a body's buffer: not the declared length, which costs a client nothing to claim. */
  private static final int FIRST_BUFFER_BYTES = 64 * 1024;
  /** A request whose body was given up on mid-read: draining it would only wait for the same client again. */
  private static final String ABANDONED = UploadReader.class.getName() + ".abandoned";

  private final UploadPace pace;
  private final Duration drainBudget;

  UploadReader(UploadPace pace, Duration drainBudget) {
    this.pace = pace;
    this.drainBudget = drainBudget;
  }

  /**
   * The whole body, at most {@code maxBytes}: 413 when it declares or turns out larger, 408 when it
   * falls behind the pace, 400 when the connection fails under it. Given up mid-read, the rest is
   * left unread and Jetty closes the connection after the answer.
   */
  byte[] read(Request request, long maxBytes) {
    long declared = request.getLength();
    if (declared > maxBytes) {
      throw ApiException.tooLarge("payload_too_large", "the request body is " + declared + " bytes; at most "
          + maxBytes + " are accepted");
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream((int) Math.min(FIRST_BUFFER_BYTES,
        declared >= 0 ? declared : maxBytes));
    long start = System.nanoTime();
    while (true) {
      Content.Chunk chunk = nextChunk(request, pace.deadlineNanos(start, body.size()));
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
        if (body.size() + (long) bytes.remaining() > maxBytes) {
          request.setAttribute(ABANDONED, Boolean.TRUE);
          throw ApiException.tooLarge("payload_too_large", "the request body exceeds " + maxBytes + " bytes");
        }
        append(body, bytes);
        if (chunk.isLast()) {
          return body.toByteArray();
        }
      } finally {
        chunk.release();
      }
    }
  }

  /**
   * Reads and drops what is left of a refused request's body, if it declared at most
   * {@code maxBytes} and arrives within the drain budget: a connection closed with unread data is
   * reset by the kernel, often before the client has read the answer. Bodies of unknown length,
   * larger ones and slower ones are left unread, and Jetty closes the connection after the answer.
   */
  void discard(Request request, long maxBytes) {
    long length = request.getLength();
    if (length <= 0 || length > maxBytes || request.getAttribute(ABANDONED) != null) {
      return;
    }
    long deadline = System.nanoTime() + drainBudget.toNanos();
    while (true) {
      Content.Chunk chunk = nextChunk(request, deadline);
      if (chunk == null) {
        return;
      }
      chunk.release();
      if (chunk.isLast() || Content.Chunk.isFailure(chunk)) {
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

  private static void append(ByteArrayOutputStream body, ByteBuffer bytes) {
    if (bytes.hasArray()) {
      body.write(bytes.array(), bytes.arrayOffset() + bytes.position(), bytes.remaining());
    } else {
      byte[] copy = new byte[bytes.remaining()];
      bytes.duplicate().get(copy);
      body.write(copy, 0, copy.length);
    }
  }
}
