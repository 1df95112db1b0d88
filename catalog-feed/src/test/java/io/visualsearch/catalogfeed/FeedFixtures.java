package io.visualsearch.catalogfeed;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.Deflater;
import java.util.zip.DeflaterInputStream;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPOutputStream;

/**
 * Deterministic feed test data, normal and hostile, generated in code so every case is readable
 * next to its assertion.
 */
final class FeedFixtures {

  static final String TSV_HEADER =
      "id\ttitle\tdescription\tlink\timage link\tadditional_image_link\tprice\tsale_price\tavailability"
          + "\tbrand\tgoogle_product_category\tproduct_type\tgtin\tcondition\n";

  private FeedFixtures() {}

  static String tsvRow(String id, String title, String price) {
    return id + "\t" + title + "\tA fine thing\thttps://shop.example/p/" + id
        + "\thttps://img.example/" + id + ".jpg\thttps://img.example/" + id + "-b.jpg,https://img.example/" + id
        + "-c.jpg\t" + price + "\t\tin stock\tAcme\tApparel & Accessories > Clothing\tTops > T-shirts"
        + "\t00012345600012\tnew\n";
  }

  /** A TSV catalog of {@code count} products, ids p-0 .. p-(count-1). */
  static String tsvCatalog(int count) {
    StringBuilder sb = new StringBuilder(TSV_HEADER);
    for (int i = 0; i < count; i++) {
      sb.append(tsvRow("p-" + i, "Product " + i, (10 + i) + ".00 USD"));
    }
    return sb.toString();
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static byte[] withUtf8Bom(String s) {
    return concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, utf8(s));
  }

  /** The same text as ISO-8859-1 bytes: "é" becomes the lone byte 0xE9, invalid UTF-8. */
  static byte[] latin1(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  static byte[] utf16le(String s) {
    return concat(new byte[] {(byte) 0xFF, (byte) 0xFE}, s.getBytes(StandardCharsets.UTF_16LE));
  }

  static byte[] gzip(byte[] data) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(data);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** One gzip member with every optional header field set (FEXTRA, FNAME, FCOMMENT, FHCRC). */
  static byte[] gzipWithFullHeader(byte[] data, String name, String comment) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {0x1f, (byte) 0x8b, 8, 4 | 8 | 16 | 2, 0, 0, 0, 0, 0, 3});
    out.writeBytes(new byte[] {4, 0, 'A', 'B', 0, 0}); // XLEN 4: one subfield "AB" of length 0
    out.writeBytes((name + "\0").getBytes(StandardCharsets.ISO_8859_1));
    out.writeBytes((comment + "\0").getBytes(StandardCharsets.ISO_8859_1));
    CRC32 headerCrc = new CRC32();
    headerCrc.update(out.toByteArray());
    out.write((int) headerCrc.getValue() & 0xFF);
    out.write((int) (headerCrc.getValue() >> 8) & 0xFF);
    Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
    try (DeflaterOutputStream body = new DeflaterOutputStream(out, deflater)) {
      body.write(data);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    CRC32 crc = new CRC32();
    crc.update(data);
    for (long v : new long[] {crc.getValue(), data.length}) {
      for (int i = 0; i < 4; i++) {
        out.write((int) (v >> (8 * i)) & 0xFF);
      }
    }
    return out.toByteArray();
  }

  /** A TSV with one row whose description is {@code bytes} long, between two normal rows. */
  static byte[] tsvWithHugeRow(int bytes) {
    StringBuilder sb = new StringBuilder(TSV_HEADER);
    sb.append(tsvRow("before", "Before", "1.00 USD"));
    sb.append("huge\tHuge\t");
    sb.append("x".repeat(bytes));
    sb.append("\thttps://shop.example/p/huge\thttps://img.example/huge.jpg\t\t2.00 USD\t\tin stock\t\t\t\t\t\n");
    sb.append(tsvRow("after", "After", "3.00 USD"));
    return utf8(sb.toString());
  }

  static String rss(String items) {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        + "<rss version=\"2.0\" xmlns:g=\"http://base.google.com/ns/1.0\">\n<channel>\n"
        + "<title>Shop</title><link>https://shop.example</link><description>feed</description>\n"
        + items + "</channel>\n</rss>\n";
  }

  static String rssItem(String id, String title, String price) {
    return "<item>\n<g:id>" + id + "</g:id>\n<title>" + title + "</title>\n"
        + "<link>https://shop.example/p/" + id + "</link>\n<description>Nice &amp; warm</description>\n"
        + "<g:image_link>https://img.example/" + id + ".jpg</g:image_link>\n"
        + "<g:additional_image_link>https://img.example/" + id + "-2.jpg</g:additional_image_link>\n"
        + "<g:additional_image_link>https://img.example/" + id + "-3.jpg</g:additional_image_link>\n"
        + "<g:price>" + price + "</g:price>\n<g:availability>preorder</g:availability>\n"
        + "<g:shipping><g:country>US</g:country><g:price>4.99 USD</g:price></g:shipping>\n"
        + "<g:brand>Acme</g:brand>\n</item>\n";
  }

  static String atom(String entries) {
    return "<?xml version=\"1.0\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" "
        + "xmlns:g=\"http://base.google.com/ns/1.0\">\n<title>Shop</title>\n<id>tag:shop</id>\n"
        + entries + "</feed>\n";
  }

  static String atomEntry(String id, String title, String price) {
    return "<entry>\n<id>tag:shop," + id + "</id>\n<g:id>" + id + "</g:id>\n<title>" + title + "</title>\n"
        + "<link rel=\"alternate\" href=\"https://shop.example/p/" + id + "\"/>\n"
        + "<summary>Summary of " + id + "</summary>\n"
        + "<g:image_link>https://img.example/" + id + ".jpg</g:image_link>\n"
        + "<g:price>" + price + "</g:price>\n<g:availability>backorder</g:availability>\n</entry>\n";
  }

  /** An XXE attempt: an external entity pointing at a local file. */
  static String xxeFeed() {
    return "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [<!ENTITY leak SYSTEM \"file:///etc/passwd\">]>\n"
        + rss(rssItem("x1", "&leak;", "1.00 USD")).substring("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n".length());
  }

  /** The classic entity-expansion bomb, a few hundred bytes that would expand to gigabytes. */
  static String billionLaughs() {
    StringBuilder dtd = new StringBuilder("<!DOCTYPE rss [\n<!ENTITY lol0 \"lol\">\n");
    for (int i = 1; i <= 9; i++) {
      dtd.append("<!ENTITY lol").append(i).append(" \"");
      for (int k = 0; k < 10; k++) {
        dtd.append("&lol").append(i - 1).append(';');
      }
      dtd.append("\">\n");
    }
    dtd.append("]>\n");
    return "<?xml version=\"1.0\"?>\n" + dtd
        + "<rss version=\"2.0\" xmlns:g=\"http://base.google.com/ns/1.0\"><channel>"
        + rssItem("b1", "&lol9;", "1.00 USD") + "</channel></rss>";
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /** {@code count} bytes of {@code b}, made as they are read: hundreds of megabytes cost nothing. */
  static InputStream filler(char b, long count) {
    return new InputStream() {
      private long left = count;

      @Override
      public int read() {
        if (left == 0) {
          return -1;
        }
        left--;
        return b;
      }

      @Override
      public int read(byte[] buffer, int offset, int length) {
        if (left == 0) {
          return -1;
        }
        int n = (int) Math.min(length, left);
        Arrays.fill(buffer, offset, offset + n, (byte) b);
        left -= n;
        return n;
      }
    };
  }

  /** The parts one after the other, each read only once the one before it ended. */
  static InputStream sequence(List<InputStream> parts) {
    return new SequenceInputStream(Collections.enumeration(parts));
  }

  static InputStream stream(String s) {
    return new ByteArrayInputStream(utf8(s));
  }

  /** Counts the bytes read through it: what a parser pulled from a generated feed. */
  static final class Counted extends FilterInputStream {
    long count;

    Counted(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        count++;
      }
      return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      int n = super.read(buffer, offset, length);
      if (n > 0) {
        count += n;
      }
      return n;
    }
  }

  /**
   * One gzip member of {@code data}, compressed as it is read (a gzip bomb of any size without
   * holding it); the trailer's CRC and size are those of what was read.
   */
  static InputStream gzipping(Counted data) {
    CRC32 crc = new CRC32();
    InputStream body = new DeflaterInputStream(new CheckedInputStream(data, crc), new Deflater(Deflater.BEST_SPEED, true));
    InputStream trailer = new InputStream() {
      private ByteArrayInputStream bytes;

      @Override
      public int read() {
        if (bytes == null) {
          long c = crc.getValue();
          long n = data.count;
          bytes = new ByteArrayInputStream(new byte[] {(byte) c, (byte) (c >> 8), (byte) (c >> 16), (byte) (c >> 24),
              (byte) n, (byte) (n >> 8), (byte) (n >> 16), (byte) (n >> 24)});
        }
        return bytes.read();
      }
    };
    byte[] header = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xFF};
    return sequence(List.of(new ByteArrayInputStream(header), body, trailer));
  }
}
