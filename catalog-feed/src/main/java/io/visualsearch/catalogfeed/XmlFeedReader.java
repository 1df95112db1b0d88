package io.visualsearch.catalogfeed;

import com.ctc.wstx.stax.WstxInputFactory;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;

/**
 * Merchant RSS 2.0 ({@code <rss><channel><item>}) and Atom ({@code <feed><entry>}) feeds, with
 * product attributes in the {@code g:} namespace. Streaming StAX: one item's text is held at a
 * time and capped by the row limit (UTF-8 bytes of its text).
 *
 * <p>Hardened against hostile XML: DTDs are not processed and external entities never resolved,
 * so XXE and entity-expansion ("billion laughs") feeds are refused instead of expanded.
 */
final class XmlFeedReader {

  static final String GOOGLE_NS = "http://base.google.com/ns/1.0";
  private static final String ATOM_NS = "http://www.w3.org/2005/Atom";
  private static final int ID_PREFIX_CHARS = 256;
  /** Woodstox's default is 1,000 (and as many namespace declarations); a feed's tags need a handful. */
  static final int MAX_ATTRIBUTES_PER_ELEMENT = 32;

  private final int maxRowBytes;
  private final long tagLimit;
  private final XMLInputFactory factory;

  XmlFeedReader(int maxRowBytes) {
    this.maxRowBytes = maxRowBytes;
    // Woodstox, whatever else is on the classpath, configured for untrusted input. The JDK's own
    // parser has no bound on one attribute value or comment: 400 MiB of either (a few hundred KB
    // of gzip) exhausted a 256 MiB heap. Woodstox refuses a token past its limits instead.
    WstxInputFactory wstx = new WstxInputFactory();
    int tokenLimit = tokenLimit(maxRowBytes);
    wstx.getConfig().setMaxAttributeSize(tokenLimit);
    wstx.getConfig().setMaxTextLength(tokenLimit);
    wstx.getConfig().setMaxAttributesPerElement(MAX_ATTRIBUTES_PER_ELEMENT);
    // Woodstox has no limit on a name, nor on one tag's attributes together: TagLengthLimit is.
    tagLimit = tagLimit(maxRowBytes);
    factory = wstx;
    factory.setProperty(XMLInputFactory.SUPPORT_DTD, false);
    factory.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
    factory.setProperty(XMLInputFactory.IS_NAMESPACE_AWARE, true);
    factory.setProperty(XMLInputFactory.IS_COALESCING, false);
    // Problems surface as exceptions with their location; nothing is printed to stderr.
    factory.setXMLReporter((message, type, info, location) -> { });
  }

  /**
   * The longest single attribute value, text run or comment the parser accepts. Above a row's
   * limit, so an oversized item is still that row's error while the feed reads on; far below
   * what would strain a heap.
   */
  static int tokenLimit(int maxRowBytes) {
    return (int) Math.min(Integer.MAX_VALUE, Math.max(4L * maxRowBytes, 16L << 20));
  }

  /**
   * The longest markup tag, {@code <} to {@code >}, in bytes: one attribute value as long as the
   * parser takes, plus a row's worth of names and other attributes. A feed whose single values fit
   * the token limit keeps its per-row errors; a tag past this, which no product needs, refuses it.
   */
  static long tagLimit(int maxRowBytes) {
    return (long) tokenLimit(maxRowBytes) + maxRowBytes;
  }

  /** Reads all items; returns whether the feed was RSS or Atom. */
  FeedFormat read(InputStream in, RowHandler handler) throws IOException, FeedRefusedException {
    XMLStreamReader xml = null;
    try {
      // Bytes, not chars: StAX honours the BOM and the declared encoding (e.g. ISO-8859-1).
      xml = factory.createXMLStreamReader(new TagLengthLimit(in, tagLimit));
      FeedFormat format = null;
      while (xml.hasNext()) {
        int event = xml.next();
        if (event == XMLStreamConstants.DTD) {
          throw new FeedRefusedException(FeedRefusedException.Reason.MALFORMED,
              "the feed declares a DOCTYPE: DTDs and entities are not accepted in feeds");
        }
        if (event != XMLStreamConstants.START_ELEMENT) {
          continue;
        }
        String local = xml.getLocalName();
        if (format == null) {
          if (local.equals("rss")) {
            format = FeedFormat.RSS;
          } else if (local.equals("feed")) {
            format = FeedFormat.ATOM;
          } else {
            throw new FeedRefusedException(FeedRefusedException.Reason.UNKNOWN_FORMAT,
                "XML feed with root element <" + local + ">: expected RSS 2.0 <rss> or Atom <feed>");
          }
          continue;
        }
        boolean isItem = format == FeedFormat.RSS ? local.equals("item") : local.equals("entry");
        if (isItem && !GOOGLE_NS.equals(xml.getNamespaceURI())) {
          readItem(xml, handler);
        }
      }
      if (format == null) {
        throw new FeedRefusedException(FeedRefusedException.Reason.MALFORMED, "the XML feed has no root element");
      }
      return format;
    } catch (XMLStreamException e) {
      if (e.getNestedException() instanceof TagLengthLimit.ExceededException tag) {
        throw new FeedRefusedException(FeedRefusedException.Reason.MALFORMED, tag.getMessage(), tag);
      }
      if (e.getNestedException() instanceof IOException io) {
        throw io; // size limit, encoding or transport: the caller classifies it
      }
      String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNumber();
      throw new FeedRefusedException(FeedRefusedException.Reason.MALFORMED,
          "the XML feed is malformed" + where + ": " + cleanMessage(e), e);
    } finally {
      if (xml != null) {
        try {
          xml.close();
        } catch (XMLStreamException ignored) {
          // closing a reader over a stream the caller owns; nothing left to release
        }
      }
    }
  }

  /** Reads one item (cursor on its start tag) through its end tag. */
  private void readItem(XMLStreamReader xml, RowHandler handler) throws XMLStreamException {
    long line = xml.getLocation().getLineNumber();
    Map<String, List<String>> google = new LinkedHashMap<>();
    Map<String, List<String>> plain = new LinkedHashMap<>();
    long bytes = 0;
    boolean oversized = false;
    int depth = 1;
    String field = null;
    Map<String, List<String>> target = null;
    StringBuilder text = new StringBuilder();
    while (depth > 0) {
      int event = xml.next();
      switch (event) {
        case XMLStreamConstants.START_ELEMENT -> {
          depth++;
          if (depth == 2) {
            String ns = xml.getNamespaceURI();
            String local = xml.getLocalName();
            text.setLength(0);
            if (GOOGLE_NS.equals(ns)) {
              field = AttributeNames.normalise(local);
              target = google;
            } else if (ns == null || ns.isEmpty() || ATOM_NS.equals(ns)) {
              field = plainField(local);
              target = plain;
              if (field != null && local.equals("link")) {
                // Atom carries the link in href; RSS in the element text.
                String href = xml.getAttributeValue(null, "href");
                String rel = xml.getAttributeValue(null, "rel");
                if (href != null && (rel == null || rel.equals("alternate"))) {
                  // Counted like text: each href is below the parser's token limit, but an item
                  // repeating them was held whole past the row limit.
                  bytes += Utf8.length(href);
                  if (bytes > maxRowBytes) {
                    oversized = true;
                  }
                  if (!oversized) {
                    plain.computeIfAbsent(field, k -> new ArrayList<>(1)).add(href);
                  }
                }
              }
            } else {
              field = null;
            }
          }
        }
        case XMLStreamConstants.CHARACTERS, XMLStreamConstants.CDATA, XMLStreamConstants.SPACE -> {
          // UTF-8 bytes, as the limit is documented: counted in chars, 400k CJK characters (1.2 MB)
          // passed a 1 MiB limit and then failed downstream as a record too large for Kafka.
          bytes += Utf8.length(xml.getTextCharacters(), xml.getTextStart(), xml.getTextLength());
          if (bytes > maxRowBytes && !oversized) {
            oversized = true;
            text.setLength(0);
          }
          if (depth == 2 && field != null) {
            if (!oversized) {
              text.append(xml.getTextCharacters(), xml.getTextStart(), xml.getTextLength());
            } else if (isId(field, target, google) && text.length() < ID_PREFIX_CHARS) {
              // Past the limit only a prefix of the id is read on, so the row error names the product
              // even when its g:id comes after the oversized description.
              text.append(xml.getTextCharacters(), xml.getTextStart(),
                  Math.min(xml.getTextLength(), ID_PREFIX_CHARS - text.length()));
            }
          }
        }
        case XMLStreamConstants.END_ELEMENT -> {
          boolean keep = !oversized || isId(field, target, google);
          if (depth == 2 && field != null && keep && text.length() > 0) {
            target.computeIfAbsent(field, k -> new ArrayList<>(1)).add(text.toString());
          }
          if (depth == 2) {
            field = null;
            text.setLength(0);
          }
          depth--;
        }
        case XMLStreamConstants.END_DOCUMENT ->
            throw new XMLStreamException("document ended inside an item", xml.getLocation());
        default -> {
          // comments, processing instructions: not product data
        }
      }
    }
    if (oversized) {
      List<String> ids = google.getOrDefault(AttributeNames.ID, List.of());
      handler.unreadable(line, ids.isEmpty() ? "" : RowMapper.clean(ids.get(0)),
          "item is " + bytes + " bytes (UTF-8), above the row limit of " + maxRowBytes + " bytes");
      return;
    }
    // g: attributes win; plain RSS/Atom elements fill what the g: namespace left out.
    for (Map.Entry<String, List<String>> e : plain.entrySet()) {
      google.putIfAbsent(e.getKey(), e.getValue());
    }
    handler.row(new RawRow(line, google));
  }

  private static boolean isId(String field, Map<String, List<String>> target, Map<String, List<String>> google) {
    return target == google && AttributeNames.ID.equals(field);
  }

  /** Plain RSS/Atom child elements that carry product attributes. */
  private static String plainField(String local) {
    return switch (local) {
      case "title" -> AttributeNames.TITLE;
      case "link" -> AttributeNames.LINK;
      case "description", "summary", "content" -> AttributeNames.DESCRIPTION;
      default -> null;
    };
  }

  private static String cleanMessage(XMLStreamException e) {
    String m = e.getMessage() == null ? "unreadable" : e.getMessage();
    int marker = m.indexOf("Message: ");
    return (marker >= 0 ? m.substring(marker + 9) : m).strip();
  }
}
