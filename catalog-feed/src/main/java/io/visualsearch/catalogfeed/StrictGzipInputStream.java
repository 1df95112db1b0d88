package io.visualsearch.catalogfeed;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.util.Objects;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import java.util.zip.ZipException;

/**
 * Decompresses a gzip feed of one or more members (RFC 1952), refusing anything after a member
 * that is not another whole member. The JDK's {@code GZIPInputStream} takes a damaged member
 * header for the end of the data, so the rows after it went missing and were deleted from the
 * catalog. Commons Compress is strict but keeps a header's file name and comment in memory
 * whatever their length: one hostile header filled the heap. Here header fields are skipped,
 * never stored.
 */
final class StrictGzipInputStream extends InputStream {

  private static final int FHCRC = 2;
  private static final int FEXTRA = 4;
  private static final int FNAME = 8;
  private static final int FCOMMENT = 16;
  private static final int RESERVED = 0xE0;

  private final PushbackInputStream in;
  private final byte[] input = new byte[1 << 16];
  private final Inflater inflater = new Inflater(true);
  private final CRC32 crc = new CRC32();
  private final CRC32 headerCrc = new CRC32();
  private int inputLength;
  private int member = 1;
  private boolean ended;

  StrictGzipInputStream(InputStream raw) throws IOException {
    this.in = new PushbackInputStream(raw, input.length);
    readHeader();
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xFF;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (len == 0) {
      return 0;
    }
    while (!ended) {
      int n;
      try {
        n = inflater.inflate(b, off, len);
      } catch (DataFormatException e) {
        throw new ZipException("the gzip feed is damaged in member " + member + ": " + e.getMessage());
      }
      if (n > 0) {
        crc.update(b, off, n);
        return n;
      }
      if (inflater.finished()) {
        endMember();
      } else if (inflater.needsDictionary()) {
        throw new ZipException("the gzip feed is damaged in member " + member + ": it asks for a preset dictionary");
      } else if (inflater.needsInput()) {
        inputLength = in.read(input);
        if (inputLength < 0) {
          throw new EOFException("the gzip feed ends in the middle of member " + member + " (truncated)");
        }
        inflater.setInput(input, 0, inputLength);
      }
    }
    return -1;
  }

  /** Checks the trailer; then either the data ends or another whole member follows. */
  private void endMember() throws IOException {
    int unused = inflater.getRemaining();
    if (unused > 0) {
      in.unread(input, inputLength - unused, unused);
    }
    long expectedCrc = uint32();
    long expectedSize = uint32();
    if (expectedCrc != crc.getValue() || expectedSize != (inflater.getBytesWritten() & 0xFFFFFFFFL)) {
      throw new ZipException("the gzip feed is damaged: member " + member + " does not match its checksum or size");
    }
    int next = in.read();
    if (next < 0) {
      ended = true;
      inflater.end();
      return;
    }
    in.unread(next);
    inflater.reset();
    crc.reset();
    member++;
    readHeader();
  }

  private void readHeader() throws IOException {
    headerCrc.reset();
    if (headerByte() != 0x1F || headerByte() != 0x8B) {
      throw new ZipException(member == 1 ? "not gzip data"
          : "the gzip feed is damaged: what follows member " + (member - 1) + " is not another gzip member");
    }
    int method = headerByte();
    int flags = headerByte();
    if (method != 8 || (flags & RESERVED) != 0) {
      throw new ZipException("the gzip feed is damaged: member " + member + " has an unknown method or flags");
    }
    skipHeaderBytes(6); // modification time, extra flags, operating system
    if ((flags & FEXTRA) != 0) {
      skipHeaderBytes(headerByte() | headerByte() << 8);
    }
    if ((flags & FNAME) != 0) {
      skipHeaderString();
    }
    if ((flags & FCOMMENT) != 0) {
      skipHeaderString();
    }
    if ((flags & FHCRC) != 0) {
      int expected = (int) headerCrc.getValue() & 0xFFFF;
      if ((headerByte() | headerByte() << 8) != expected) {
        throw new ZipException("the gzip feed is damaged: member " + member + " does not match its header checksum");
      }
    }
  }

  private void skipHeaderBytes(int count) throws IOException {
    for (int i = 0; i < count; i++) {
      headerByte();
    }
  }

  private void skipHeaderString() throws IOException {
    while (headerByte() != 0) {
      // a name or comment: nothing we use
    }
  }

  private int headerByte() throws IOException {
    int b = in.read();
    if (b < 0) {
      throw new EOFException("the gzip feed ends in the header of member " + member + " (truncated)");
    }
    headerCrc.update(b);
    return b;
  }

  private long uint32() throws IOException {
    long value = 0;
    for (int i = 0; i < 4; i++) {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("the gzip feed ends in the trailer of member " + member + " (truncated)");
      }
      value |= (long) b << (8 * i);
    }
    return value;
  }

  @Override
  public void close() throws IOException {
    inflater.end();
    in.close();
  }
}
