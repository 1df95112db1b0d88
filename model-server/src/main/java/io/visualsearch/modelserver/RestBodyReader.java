package io.visualsearch.modelserver;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Reads a REST request body within the size limit and the shared {@link BodyBudget}: a
 * declared Content-Length is charged before anything is read; a chunked body is charged piece by
 * piece as it arrives. A refused body is read on and thrown away (up to the size limit) so that
 * the connection stays usable and the client reads the answer instead of a reset.
 */
final class RestBodyReader {

  /** Why a body was not read: the HTTP status and message to answer with. */
  static final class Refused extends Exception {
    final int status;

    Refused(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }
  }

  private static final int PIECE = 64 * 1024;

  private final int maxBodyBytes;

  RestBodyReader(int maxBodyBytes) {
    this.maxBodyBytes = maxBodyBytes;
  }

  /** The body, charged to {@code lease} at {@link BodyBudget#EXPANSION} times its size. */
  byte[] read(InputStream in, long declaredLength, BodyBudget.Lease lease) throws IOException, Refused {
    if (declaredLength > maxBodyBytes) {
      throw tooLarge(in);
    }
    if (declaredLength >= 0) {
      if (!lease.grow(declaredLength * BodyBudget.EXPANSION)) {
        throw overBudget(in, declaredLength);
      }
      byte[] data = in.readNBytes(maxBodyBytes + 1);
      if (data.length > maxBodyBytes) {
        throw tooLarge(in);
      }
      return data;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] piece = new byte[PIECE];
    while (true) {
      if (!lease.grow((long) PIECE * BodyBudget.EXPANSION)) {
        throw overBudget(in, -1);
      }
      int n = in.readNBytes(piece, 0, PIECE);
      out.write(piece, 0, n);
      if (out.size() > maxBodyBytes) {
        throw tooLarge(in);
      }
      if (n < PIECE) {
        return out.toByteArray();
      }
    }
  }

  private Refused tooLarge(InputStream in) throws IOException {
    discard(in);
    return new Refused(413, "request body exceeds " + maxBodyBytes + " bytes");
  }

  private Refused overBudget(InputStream in, long declaredLength) throws IOException {
    discard(in);
    return new Refused(503, "the server is decoding too many REST request bodies to take this one"
        + (declaredLength >= 0 ? " (" + declaredLength + " bytes)" : "") + " now; retry later, or use gRPC for large batches");
  }

  /** Reads and drops what is left of the body, up to the size limit (beyond it the server closes the connection). */
  private void discard(InputStream in) throws IOException {
    byte[] sink = new byte[8192];
    long left = maxBodyBytes + 1L;
    int n;
    while (left > 0 && (n = in.read(sink, 0, (int) Math.min(sink.length, left))) > 0) {
      left -= n;
    }
  }
}
