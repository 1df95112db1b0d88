package io.visualsearch.catalogfeed;

import static io.visualsearch.catalogfeed.FeedFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class TagLengthLimitTest {

  private static final int MAX = 16;

  /** Reads it all through the limit, in odd-sized chunks so that state crosses reads. */
  private static long drain(byte[] bytes, int max) throws IOException {
    InputStream in = new TagLengthLimit(new ByteArrayInputStream(bytes), max);
    byte[] chunk = new byte[7];
    long total = 0;
    for (int n; (n = in.read(chunk, 0, chunk.length)) >= 0; ) {
      total += n;
    }
    return total;
  }

  /** The same a byte at a time, through {@code read()}. */
  private static long drainBytewise(byte[] bytes, int max) throws IOException {
    InputStream in = new TagLengthLimit(new ByteArrayInputStream(bytes), max);
    long total = 0;
    while (in.read() >= 0) {
      total++;
    }
    return total;
  }

  private static TagLengthLimit.ExceededException refused(byte[] bytes) {
    return assertThrows(TagLengthLimit.ExceededException.class, () -> drain(bytes, MAX));
  }

  @Test
  void aTagOfExactlyTheLimitPassesAndOneByteMoreIsRefusedWithWhereItStarts() throws IOException {
    String sixteen = "<a b=\"0123456\"/>";
    assertEquals(MAX, sixteen.length());
    for (String tag : List.of(sixteen, "<abcdefghijklmn>", "<!DOCTYPE abcde>")) {
      assertEquals(3 + MAX, drain(utf8("ok " + tag), MAX), tag);
      assertEquals(3 + MAX, drainBytewise(utf8("ok " + tag), MAX), tag);
      String longer = tag.replace("<a", "<aa").replace("<ab", "<aab").replace("<!D", "<!DD");
      for (Executable read : List.<Executable>of(() -> drain(utf8("ok " + longer), MAX),
          () -> drainBytewise(utf8("ok " + longer), MAX))) {
        TagLengthLimit.ExceededException e = assertThrows(TagLengthLimit.ExceededException.class, read, longer);
        assertTrue(e.getMessage().contains("longer than 16 bytes, starting at byte 3 "), e.getMessage());
      }
    }
  }

  @Test
  void aLongNameIsRefusedReadOneByteAtATime() {
    assertThrows(TagLengthLimit.ExceededException.class, () -> drainBytewise(utf8("<" + "n".repeat(100) + "/>"), MAX));
  }

  @Test
  void aGreaterThanInAQuotedValueDoesNotEndTheTag() {
    refused(utf8("<a b='>>>>>>>>>>>>>>>>>>>>'/>"));
    refused(utf8("<a b=\">>>>'>>>>>>>>>>>>>>>\"/>"));
  }

  @Test
  void commentsCdataProcessingInstructionsAndTextAreNotCounted() throws IOException {
    String xml = "<?xml version=\"1.0\"?>\n<?pi a>b \"quote ?>"
        + "<r><!-- <" + "x".repeat(100) + " \" - -> --->"
        + "<![CDATA[ <" + "y".repeat(100) + " ' ]> ]]]>"
        + "text > " + "z".repeat(100) + " \"</r>";
    assertEquals(utf8(xml).length, drain(utf8(xml), MAX));
    refused(utf8(xml + "<after" + "a".repeat(MAX) + ">"));
  }

  @Test
  void declarationsOtherThanCommentsAndCdataAreCounted() {
    refused(utf8("<!DOCTYPE " + "d".repeat(MAX) + ">"));
    refused(utf8("<!-x" + "d".repeat(MAX) + ">"));
  }

  @Test
  void utf16IsReadByCodeUnitSoBytesOfOtherCharactersAreNoMarkup() throws IOException {
    // U+3C22 is the bytes '<' and '"' in either order: read bytewise, a tag with an open quote.
    String text = "<r>" + "\u3c22".repeat(100) + "</r>";
    assertEquals(2 + 2L * text.length(), drain(utf16le(text), MAX));
    byte[] be = concat(new byte[] {(byte) 0xFE, (byte) 0xFF}, text.getBytes(StandardCharsets.UTF_16BE));
    assertEquals(be.length, drain(be, MAX));
    // Eight characters are sixteen bytes: the limit is bytes there too.
    assertEquals(2 + 16L, drain(utf16le("<abcdef>"), MAX));
    TagLengthLimit.ExceededException e = assertThrows(TagLengthLimit.ExceededException.class,
        () -> drain(utf16le("x<abcdefg>"), MAX));
    assertTrue(e.getMessage().contains("starting at byte 4 "), e.getMessage());
  }
}
