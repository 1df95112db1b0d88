package io.visualsearch.catalogfeed;

import java.io.IOException;
import java.io.InputStream;

/**
 * Fails the read of an XML feed at a markup tag, from its {@code <} to its {@code >}, longer than
 * {@code max} bytes. Woodstox bounds each attribute value, text run and comment, but not an element
 * or attribute name, and the values of one tag's attributes pile up in one buffer: a start tag with
 * a 300M-character name, or with 30 attribute values of 15M characters, exhausted the heap while no
 * single token passed a limit. Comments, CDATA sections and processing instructions are passed
 * through uncounted, as is the text between tags (Woodstox bounds those itself); quotes are
 * followed, since a {@code >} in an attribute value does not end the tag.
 *
 * <p>Reads bytes of the encodings the sniffer lets through to the XML reader: ASCII-compatible ones
 * (UTF-8, ISO-8859-x, windows-125x) byte by byte, UTF-16 after its byte order mark by code unit.
 */
final class TagLengthLimit extends InputStream {

  /** Thrown through the XML reader; {@link XmlFeedReader} turns it into a MALFORMED refusal. */
  static final class ExceededException extends IOException {
    ExceededException(long start, long max) {
      super("the XML feed has a tag (from < to >) longer than " + max + " bytes, starting at byte " + start
          + " of the feed: one element's name and attributes may take at most " + max + " bytes together");
    }
  }

  private static final int TEXT = 0;
  // Inside a tag, counted: just after '<', after "<!", after "<!-", in a tag, in a quoted value.
  private static final int OPEN = 1;
  private static final int BANG = 2;
  private static final int BANG_DASH = 3;
  private static final int TAG = 4;
  private static final int QUOTED = 5;
  // Not counted: comment, CDATA section, processing instruction (or XML declaration).
  private static final int COMMENT = 6;
  private static final int CDATA = 7;
  private static final int PI = 8;

  private final InputStream in;
  private final long max;
  private long position;
  private int firstByte;
  private boolean utf16;
  private boolean bigEndian;
  private int pendingByte = -1;
  private int state = TEXT;
  private long tagStart;
  private int quote;
  /** Closing characters seen in a row: '-' in a comment, ']' in CDATA, '?' in a PI. */
  private int closing;

  TagLengthLimit(InputStream in, long max) {
    this.in = in;
    this.max = max;
  }

  @Override
  public int read() throws IOException {
    int b = in.read();
    if (b >= 0) {
      accept(b);
    }
    return b;
  }

  @Override
  public int read(byte[] buffer, int offset, int length) throws IOException {
    int n = in.read(buffer, offset, length);
    if (n > 0) {
      scan(buffer, offset, offset + n);
    }
    return n;
  }

  @Override
  public int available() throws IOException {
    return in.available();
  }

  @Override
  public void close() throws IOException {
    in.close();
  }

  /**
   * Every feed's bytes pass here, so text, quoted values and the rest of a tag are skipped in tight
   * loops; the rarer states (and UTF-16) go a character at a time.
   */
  private void scan(byte[] b, int from, int to) throws ExceededException {
    int i = from;
    while (i < to && (utf16 || position < 2)) {
      accept(b[i++] & 0xFF);
    }
    long base = position - i; // the position of b[i] is base + i
    while (i < to) {
      switch (state) {
        case TEXT -> {
          while (i < to && b[i] != '<') {
            i++;
          }
          if (i < to) {
            state = OPEN;
            tagStart = base + i++;
          }
        }
        case TAG, QUOTED -> {
          if (state == QUOTED) {
            while (i < to && b[i] != quote) {
              i++;
            }
            if (i < to) {
              state = TAG;
            }
          } else {
            while (i < to && b[i] != '>' && b[i] != '"' && b[i] != '\'') {
              i++;
            }
            if (i < to) {
              state = inTag(b[i]);
            }
          }
          // The last byte read is the furthest into the tag: checking it checks all before it.
          int last = i < to ? i++ : to - 1;
          if (base + last - tagStart >= max) {
            throw new ExceededException(tagStart, max);
          }
        }
        default -> {
          step(b[i] & 0xFF, base + i, base + i);
          i++;
        }
      }
    }
    position = base + to;
  }

  private void accept(int b) throws ExceededException {
    long at = position++;
    if (utf16) {
      if (pendingByte < 0) {
        pendingByte = b;
        return;
      }
      int unit = bigEndian ? pendingByte << 8 | b : b << 8 | pendingByte;
      pendingByte = -1;
      step(unit, at - 1, at);
      return;
    }
    if (at < 2) {
      // A byte order mark is no markup, so the switch to code units can wait for its second byte.
      if (at == 0) {
        firstByte = b;
      } else if ((firstByte == 0xFE && b == 0xFF) || (firstByte == 0xFF && b == 0xFE)) {
        utf16 = true;
        bigEndian = firstByte == 0xFE;
        return;
      }
    }
    step(b, at, at);
  }

  /** One character (byte or UTF-16 unit) occupying bytes {@code start..end} of the feed. */
  private void step(int c, long start, long end) throws ExceededException {
    if (state >= OPEN && state <= QUOTED && end - tagStart >= max) {
      throw new ExceededException(tagStart, max);
    }
    switch (state) {
      case TEXT -> {
        if (c == '<') {
          state = OPEN;
          tagStart = start;
        }
      }
      case OPEN -> state = c == '?' ? PI : c == '!' ? BANG : inTag(c);
      case BANG -> state = c == '-' ? BANG_DASH : c == '[' ? CDATA : inTag(c);
      case BANG_DASH -> state = c == '-' ? COMMENT : inTag(c);
      case TAG -> state = inTag(c);
      case QUOTED -> state = c == quote ? TAG : QUOTED;
      case COMMENT -> state = closes(c, '-', 2) ? TEXT : COMMENT;
      case CDATA -> state = closes(c, ']', 2) ? TEXT : CDATA;
      case PI -> state = closes(c, '?', 1) ? TEXT : PI;
      default -> throw new IllegalStateException("state " + state);
    }
  }

  private int inTag(int c) {
    if (c == '>') {
      return TEXT;
    }
    if (c == '"' || c == '\'') {
      quote = c;
      return QUOTED;
    }
    return TAG;
  }

  /** Whether {@code c} is the '>' ending a section after {@code needed} of {@code mark} in a row. */
  private boolean closes(int c, int mark, int needed) {
    boolean end = c == '>' && closing >= needed;
    closing = c == mark ? closing + 1 : 0;
    if (end) {
      closing = 0;
    }
    return end;
  }
}
