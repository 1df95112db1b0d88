package io.visualsearch.catalogfeed;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** Guesses a feed's syntax from its first few kilobytes. */
final class FeedSniffer {

  static final int PEEK_BYTES = 8192;

  private FeedSniffer() {}

  /** Peeks (mark/reset) at the stream; the stream is left at its start. */
  static FeedFormat sniff(BufferedInputStream in) throws IOException, FeedRefusedException {
    byte[] head = peek(in, PEEK_BYTES);
    if (startsWith(head, 0xFE, 0xFF) || startsWith(head, 0xFF, 0xFE)) {
      // XML may be UTF-16 (StAX decodes it); delimited text must be UTF-8.
      return sniffUtf16(head);
    }
    int i = contentStart(head);
    if (i == head.length) {
      throw new FeedRefusedException(FeedRefusedException.Reason.UNKNOWN_FORMAT, "the feed is empty");
    }
    byte b = head[i];
    if (b == '<') {
      return xmlKind(new String(head, i, head.length - i, StandardCharsets.ISO_8859_1));
    }
    if (b == '{') {
      return FeedFormat.JSONL;
    }
    if (b == '[') {
      throw new FeedRefusedException(
          FeedRefusedException.Reason.UNKNOWN_FORMAT,
          "JSON array feeds are not supported: send JSON Lines (one product object per line)");
    }
    int lineEnd = i;
    int tabs = 0;
    int commas = 0;
    int semicolons = 0;
    while (lineEnd < head.length && head[lineEnd] != '\n') {
      if (head[lineEnd] == '\t') {
        tabs++;
      } else if (head[lineEnd] == ',') {
        commas++;
      } else if (head[lineEnd] == ';') {
        semicolons++;
      }
      lineEnd++;
    }
    if (tabs > 0) {
      return FeedFormat.TSV;
    }
    if (commas > 0 || semicolons > 0) {
      return FeedFormat.CSV;
    }
    throw new FeedRefusedException(
        FeedRefusedException.Reason.UNKNOWN_FORMAT,
        "cannot tell the feed format: expected a tab- or comma-separated header row, XML (RSS/Atom) or JSON Lines");
  }

  /** Which delimiter a CSV header uses: ';' when it has more semicolons than commas. */
  static char csvDelimiter(BufferedInputStream in) throws IOException {
    byte[] head = peek(in, PEEK_BYTES);
    int commas = 0;
    int semicolons = 0;
    // The header row, as sniff found it: a blank first line counted nothing, gave ',' to a ';'
    // feed and refused the whole of it for missing columns.
    for (int i = contentStart(head); i < head.length && head[i] != '\n'; i++) {
      if (head[i] == ',') {
        commas++;
      } else if (head[i] == ';') {
        semicolons++;
      }
    }
    return semicolons > commas ? ';' : ',';
  }

  /** Where the content begins: after a UTF-8 BOM and leading whitespace and blank lines. */
  private static int contentStart(byte[] head) {
    int i = startsWith(head, 0xEF, 0xBB, 0xBF) ? 3 : 0;
    while (i < head.length && isSpace(head[i])) {
      i++;
    }
    return i;
  }

  private static FeedFormat sniffUtf16(byte[] head) throws FeedRefusedException {
    boolean bigEndian = head[0] == (byte) 0xFE;
    String text = new String(head, 2, head.length - 2,
        bigEndian ? StandardCharsets.UTF_16BE : StandardCharsets.UTF_16LE).strip();
    if (text.startsWith("<")) {
      return xmlKind(text);
    }
    throw new FeedRefusedException(
        FeedRefusedException.Reason.ENCODING,
        "the feed is UTF-16 text: export delimited and JSON feeds as UTF-8");
  }

  private static FeedFormat xmlKind(String head) throws FeedRefusedException {
    // Skip the prolog to the root element's name: the declaration and processing instructions,
    // comments (which may hold markup of their own, "<!-- by <Shop> -->") and a DOCTYPE.
    int at = 0;
    while (at >= 0) {
      at = head.indexOf('<', at);
      if (at < 0 || at + 1 >= head.length()) {
        break;
      }
      if (head.startsWith("<?", at)) {
        at = after(head, "?>", at + 2);
      } else if (head.startsWith("<!--", at)) {
        at = after(head, "-->", at + 4);
      } else if (head.startsWith("<!", at)) {
        at = afterDoctype(head, at + 2);
      } else {
        return rootKind(head.substring(at + 1).split("[\\s>/]", 2)[0]);
      }
    }
    // Root not within the peek window (huge prolog): let the XML reader decide.
    return FeedFormat.RSS;
  }

  private static FeedFormat rootKind(String name) throws FeedRefusedException {
    String local = name.contains(":") ? name.substring(name.indexOf(':') + 1) : name;
    if (local.equals("rss")) {
      return FeedFormat.RSS;
    }
    if (local.equals("feed")) {
      return FeedFormat.ATOM;
    }
    throw new FeedRefusedException(
        FeedRefusedException.Reason.UNKNOWN_FORMAT,
        "XML feed with root element <" + name + ">: expected RSS 2.0 <rss> or Atom <feed>");
  }

  /** Just past the next {@code end} from {@code from}; -1 when the peek window ends first. */
  private static int after(String head, String end, int from) {
    int found = head.indexOf(end, from);
    return found < 0 ? -1 : found + end.length();
  }

  /**
   * Just past a DOCTYPE's closing '>', or -1. Its quoted ids, and the entity values and comments
   * of its internal subset ([...]), may hold '>' of their own. The XML reader refuses any DOCTYPE
   * anyway; skipping it here lets it say so rather than this sniffer naming a wrong root.
   */
  private static int afterDoctype(String head, int from) {
    char quote = 0;
    boolean subset = false;
    for (int i = from; i >= 0 && i < head.length(); i++) {
      char c = head.charAt(i);
      if (quote != 0) {
        quote = c == quote ? 0 : quote;
      } else if (head.startsWith("<!--", i)) {
        i = after(head, "-->", i + 4) - 1;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '[' || c == ']') {
        subset = c == '[';
      } else if (c == '>' && !subset) {
        return i + 1;
      }
    }
    return -1;
  }

  static byte[] peek(BufferedInputStream in, int max) throws IOException {
    in.mark(max);
    byte[] buffer = new byte[max];
    int n = 0;
    while (n < max) {
      int r = in.read(buffer, n, max - n);
      if (r < 0) {
        break;
      }
      n += r;
    }
    in.reset();
    return n == max ? buffer : java.util.Arrays.copyOf(buffer, n);
  }

  private static boolean startsWith(byte[] data, int... prefix) {
    if (data.length < prefix.length) {
      return false;
    }
    for (int k = 0; k < prefix.length; k++) {
      if ((data[k] & 0xFF) != prefix[k]) {
        return false;
      }
    }
    return true;
  }

  private static boolean isSpace(byte b) {
    return b == ' ' || b == '\t' || b == '\r' || b == '\n';
  }
}
