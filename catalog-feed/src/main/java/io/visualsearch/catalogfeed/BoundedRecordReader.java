package io.visualsearch.catalogfeed;

import java.io.IOException;
import java.io.Reader;

/**
 * Splits character input into records (lines, or RFC 4180 records whose quoted fields may span
 * lines) without ever holding more than {@code maxRecordBytes} of one record: an oversized record
 * is skipped to its end and reported with only a short prefix kept, so a 10 MB row costs a
 * bounded buffer, not 10 MB.
 */
final class BoundedRecordReader {

  /**
   * A record; when {@code oversized}, {@code text} is only its first {@link #PREFIX_CHARS} chars.
   * {@code unterminated}: the input ended inside a quoted field this record opened.
   */
  record Record(String text, long line, boolean oversized, long bytes, boolean unterminated) {}

  static final int PREFIX_CHARS = 256;

  private final Reader in;
  private final boolean quoteAware;
  private final char delimiter;
  private final long maxRecordBytes;
  private final char[] buffer = new char[8192];
  private int position;
  private int limit;
  private long line = 1;
  private boolean first = true;

  /** Records end at line ends only. */
  BoundedRecordReader(Reader in, long maxRecordBytes) {
    this(in, false, '\0', maxRecordBytes);
  }

  /** CSV records: a line end inside a quoted field does not end the record. */
  static BoundedRecordReader csv(Reader in, char delimiter, long maxRecordBytes) {
    return new BoundedRecordReader(in, true, delimiter, maxRecordBytes);
  }

  private BoundedRecordReader(Reader in, boolean quoteAware, char delimiter, long maxRecordBytes) {
    this.in = in;
    this.quoteAware = quoteAware;
    this.delimiter = delimiter;
    this.maxRecordBytes = maxRecordBytes;
  }

  /** The next non-blank record, or null at end of input. */
  Record next() throws IOException {
    while (true) {
      Record record = readOne();
      if (record == null) {
        return null;
      }
      if (record.oversized() || !record.text().isBlank()) {
        return record;
      }
    }
  }

  private Record readOne() throws IOException {
    StringBuilder text = new StringBuilder();
    long startLine = line;
    long bytes = 0;
    boolean inQuotes = false;
    boolean quoteSeen = false; // inside quotes, the last character was a quote: closes, or "" escapes
    boolean fieldStart = true;
    boolean oversized = false;
    boolean sawAny = false;
    while (true) {
      if (position == limit) {
        limit = in.read(buffer, 0, buffer.length);
        position = 0;
        if (limit <= 0) {
          limit = 0;
          if (!sawAny) {
            return null;
          }
          return finish(text, startLine, oversized, bytes, inQuotes && !quoteSeen);
        }
        if (first) {
          first = false;
          if (buffer[0] == '\uFEFF') {
            position = 1; // byte order mark: not content
            continue;
          }
        }
      }
      char c = buffer[position++];
      sawAny = true;
      if (quoteAware) {
        // As RFC 4180 and Commons CSV read it: a quote opens a quoted field only as the field's
        // first character; elsewhere in an unquoted field (12" pan) it is a literal inch mark, and
        // toggling on it swallowed every following line into one record.
        boolean insideQuotes = false;
        if (inQuotes) {
          insideQuotes = true;
          if (quoteSeen) {
            quoteSeen = false;
            if (c != '"') {
              inQuotes = false; // the quote before closed the field; c is outside it
              insideQuotes = false;
            }
          } else if (c == '"') {
            quoteSeen = true;
          }
        }
        if (!insideQuotes) {
          if (c == '"' && fieldStart) {
            inQuotes = true;
            fieldStart = false;
          } else {
            fieldStart = c == delimiter;
          }
        }
      }
      if (c == '\n') {
        line++;
        if (!inQuotes) {
          return finish(text, startLine, oversized, bytes, false);
        }
      }
      bytes += Utf8.length(c);
      if (!oversized) {
        if (bytes > maxRecordBytes) {
          oversized = true;
          text.setLength(Math.min(text.length(), PREFIX_CHARS));
          text.trimToSize();
        } else {
          text.append(c);
        }
      }
    }
  }

  private static Record finish(StringBuilder text, long startLine, boolean oversized, long bytes,
      boolean unterminated) {
    int end = text.length();
    if (!oversized && end > 0 && text.charAt(end - 1) == '\r') {
      end--;
    }
    return new Record(text.substring(0, end), startLine, oversized, bytes, unterminated);
  }
}
