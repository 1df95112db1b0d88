package io.visualsearch.catalogfeed;

import java.io.BufferedInputStream;
import java.io.CharConversionException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Streams a retailer feed into a {@link FeedSink}: gzip is unwrapped when the magic bytes say
 * so, the syntax is sniffed unless overridden, rows are validated one at a time and bad rows
 * become {@link RowError}s. Memory is bounded by the row limit plus one entry per accepted id
 * (needed to reject duplicates).
 *
 * <p>One instance may parse many feeds, one at a time per call; it holds no per-feed state.
 */
public final class FeedParser {

  private final FeedOptions options;
  private final ProductCheck check;

  public FeedParser(FeedOptions options) {
    this(options, ProductCheck.NONE);
  }

  /** {@code check}: a further limit on valid products; what it refuses becomes a row error. */
  public FeedParser(FeedOptions options, ProductCheck check) {
    this.options = options;
    this.check = check;
  }

  /**
   * Parses the whole stream (the caller closes it).
   *
   * @throws FeedRefusedException when the feed as a whole is unusable (format, encoding, header,
   *     size); rows already delivered to the sink must then be discarded by the caller
   */
  public FeedSummary parse(InputStream raw, FeedSink sink) throws IOException, FeedRefusedException {
    BufferedInputStream buffered = new BufferedInputStream(raw, 1 << 16);
    InputStream decompressed = isGzip(buffered) ? new StrictGzipInputStream(buffered) : buffered;
    BufferedInputStream in =
        new BufferedInputStream(new FeedSizeLimit(decompressed, options.maxFeedBytes()), 1 << 16);
    FeedFormat format = options.formatOverride() != null ? options.formatOverride() : FeedSniffer.sniff(in);
    ValidatingHandler handler = new ValidatingHandler(sink, check, options.maxProducts());
    try {
      switch (format) {
        case TSV -> new TabularFeedReader(TabularFeedReader.Dialect.tsv(), options.maxRowBytes())
            .read(utf8(in), handler);
        case CSV -> new TabularFeedReader(
                TabularFeedReader.Dialect.csv(FeedSniffer.csvDelimiter(in)), options.maxRowBytes())
            .read(utf8(in), handler);
        case JSONL -> new JsonLinesFeedReader(options.maxRowBytes()).read(utf8(in), handler);
        case RSS, ATOM -> format = new XmlFeedReader(options.maxRowBytes()).read(in, handler);
        default -> throw new IllegalStateException("unhandled format " + format);
      }
    } catch (FeedSizeLimit.ExceededException e) {
      throw new FeedRefusedException(FeedRefusedException.Reason.TOO_LARGE, e.getMessage(), e);
    } catch (TooManyProductsException e) {
      throw new FeedRefusedException(FeedRefusedException.Reason.TOO_LARGE, e.getMessage(), e);
    } catch (CharacterCodingException | CharConversionException e) {
      throw new FeedRefusedException(
          FeedRefusedException.Reason.ENCODING,
          "the feed is not valid UTF-8 (near line " + handler.lastLine + "): re-export it as UTF-8",
          e);
    }
    return new FeedSummary(format, handler.rows, handler.accepted, handler.rejected);
  }

  private static boolean isGzip(BufferedInputStream in) throws IOException {
    byte[] head = FeedSniffer.peek(in, 2);
    return head.length == 2 && (head[0] & 0xFF) == 0x1F && (head[1] & 0xFF) == 0x8B;
  }

  /** Strict UTF-8: a malformed byte fails the read instead of becoming U+FFFD silently. */
  private static Reader utf8(InputStream in) {
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    return new InputStreamReader(in, decoder);
  }

  /** Maps rows to products, applies the caller's check, rejects later duplicates of an accepted id, counts. */
  private static final class ValidatingHandler implements RowHandler {
    private final FeedSink sink;
    private final ProductCheck check;
    private final RowMapper mapper = new RowMapper();
    private final Map<String, Long> acceptedAt = new HashMap<>();
    private final long maxProducts;
    long rows;
    long accepted;
    long rejected;
    long lastLine;

    ValidatingHandler(FeedSink sink, ProductCheck check, long maxProducts) {
      this.sink = sink;
      this.check = check;
      this.maxProducts = maxProducts;
    }

    @Override
    public void row(RawRow row) {
      rows++;
      lastLine = row.line();
      RowMapper.Mapped mapped = mapper.map(row.attributes());
      if (mapped.error() != null) {
        reject(new RowError(row.line(), mapped.id(), mapped.error()));
        return;
      }
      // Before the duplicate check, as for any other invalid row: a later valid row of the id wins.
      String problem = check.problem(mapped.product());
      if (problem != null) {
        reject(new RowError(row.line(), mapped.id(), problem));
        return;
      }
      Long firstLine = acceptedAt.putIfAbsent(mapped.id(), row.line());
      if (firstLine != null) {
        reject(new RowError(row.line(), mapped.id(), "duplicate id, first seen on line " + firstLine));
        return;
      }
      if (++accepted > maxProducts) {
        throw new TooManyProductsException("the feed has more than " + maxProducts + " products (line " + row.line()
            + "), more than a sync is allowed to hold in memory");
      }
      sink.product(mapped.product(), row.line());
    }

    @Override
    public void unreadable(long line, String id, String reason) {
      rows++;
      lastLine = line;
      reject(new RowError(line, id, reason));
    }

    private void reject(RowError error) {
      rejected++;
      sink.rowError(error);
    }
  }

  /** Ends a parse whose feed passed the product limit; becomes a TOO_LARGE refusal. */
  private static final class TooManyProductsException extends RuntimeException {
    TooManyProductsException(String message) {
      super(message, null, false, false);
    }
  }
}
