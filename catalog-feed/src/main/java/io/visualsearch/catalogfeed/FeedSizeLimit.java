package io.visualsearch.catalogfeed;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/** Fails the read once more than {@code max} bytes went through: a gzip bomb stops here. */
final class FeedSizeLimit extends FilterInputStream {

  /** Thrown through the reader stack; {@link FeedParser} turns it into a refusal. */
  static final class ExceededException extends IOException {
    ExceededException(long max) {
      super("feed is larger than " + max + " bytes after decompression");
    }
  }

  private final long max;
  private long count;

  FeedSizeLimit(InputStream in, long max) {
    super(in);
    this.max = max;
  }

  @Override
  public int read() throws IOException {
    int b = super.read();
    if (b >= 0) {
      account(1);
    }
    return b;
  }

  @Override
  public int read(byte[] buffer, int offset, int length) throws IOException {
    int n = super.read(buffer, offset, length);
    if (n > 0) {
      account(n);
    }
    return n;
  }

  @Override
  public long skip(long n) throws IOException {
    long skipped = super.skip(n);
    account(skipped);
    return skipped;
  }

  @Override
  public boolean markSupported() {
    return false;
  }

  private void account(long n) throws ExceededException {
    count += n;
    if (count > max) {
      throw new ExceededException(max);
    }
  }
}
