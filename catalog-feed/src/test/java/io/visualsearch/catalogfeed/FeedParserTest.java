package io.visualsearch.catalogfeed;

import io.visualsearch.topics.Availability;
import static io.visualsearch.catalogfeed.FeedFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.math.BigDecimal;
import java.util.Collections;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class FeedParserTest {

  private final FeedParser parser = new FeedParser(FeedOptions.defaults());

  private CollectingSink parse(byte[] feed) throws Exception {
    return parse(parser, feed);
  }

  private static CollectingSink parse(FeedParser parser, byte[] feed) throws Exception {
    CollectingSink sink = new CollectingSink();
    parser.parse(new ByteArrayInputStream(feed), sink);
    return sink;
  }

  private FeedRefusedException refused(byte[] feed) {
    return assertThrows(FeedRefusedException.class, () -> parse(feed));
  }

  @Test
  void merchantTsvYieldsEveryAttribute() throws Exception {
    CollectingSink sink = new CollectingSink();
    FeedSummary summary = parser.parse(new ByteArrayInputStream(utf8(
        TSV_HEADER + tsvRow("sku-1", "  Blue   T-shirt ", "12.99 USD"))), sink);
    assertEquals(new FeedSummary(FeedFormat.TSV, 1, 1, 0), summary);
    Product p = sink.products.get(0);
    assertEquals("sku-1", p.id());
    assertEquals("Blue T-shirt", p.title(), "whitespace is normalised");
    assertEquals("https://img.example/sku-1.jpg", p.imageLink());
    assertEquals(List.of("https://img.example/sku-1-b.jpg", "https://img.example/sku-1-c.jpg"),
        p.additionalImageLinks());
    assertEquals(new BigDecimal("12.99"), p.price().amount());
    assertEquals("USD", p.price().currency().getCurrencyCode());
    assertNull(p.salePrice());
    assertEquals(Availability.IN_STOCK, p.availability());
    assertEquals("Acme", p.brand());
    assertEquals("Apparel & Accessories > Clothing", p.googleProductCategory());
    assertEquals("Tops > T-shirts", p.productType());
    assertEquals("00012345600012", p.gtin());
    assertEquals("new", p.condition());
  }

  @Test
  void bomPrefixedFeedStillFindsTheIdColumn() throws Exception {
    CollectingSink sink = parse(withUtf8Bom(tsvCatalog(3)));
    assertEquals(List.of("p-0", "p-1", "p-2"), sink.ids());
    assertTrue(sink.errors.isEmpty());
  }

  @Test
  void nonUtf8FeedIsRefusedWithAnEncodingReason() {
    FeedRefusedException e = refused(latin1(TSV_HEADER + tsvRow("p-1", "Café crème", "3.00 EUR")));
    assertEquals(FeedRefusedException.Reason.ENCODING, e.reason());
    assertTrue(e.getMessage().contains("UTF-8"), e.getMessage());
  }

  @Test
  void utf16DelimitedFeedIsRefused() {
    FeedRefusedException e = refused(utf16le(tsvCatalog(2)));
    assertEquals(FeedRefusedException.Reason.ENCODING, e.reason());
  }

  @Test
  void headerWithoutRequiredColumnsRefusesTheWholeFeed() {
    FeedRefusedException e = refused(utf8("id\ttitle\tlink\nA\tB\thttps://x.example/\n"));
    assertEquals(FeedRefusedException.Reason.MISSING_COLUMNS, e.reason());
    assertTrue(e.getMessage().contains("image_link, price"), e.getMessage());
  }

  @Test
  void aRefusalStaysShortEnoughToDeadLetterWhateverTheFeedHolds() {
    // Half a million commas is a header row within the row limit; listing its names in full made
    // a dead-letter record larger than Kafka accepts, and the sync failed instead of refusing.
    FeedRefusedException header = refused(utf8(",".repeat(500_000) + "\n"));
    assertEquals(FeedRefusedException.Reason.MISSING_COLUMNS, header.reason());
    assertTrue(header.getMessage().endsWith(" and 499981 more"), header.getMessage());
    // Any other refusal quoting the feed is cut as a row's reason is: here an 8 KiB root element name.
    FeedRefusedException root = refused(utf8("<" + "x".repeat(100_000) + "/>"));
    assertEquals(FeedRefusedException.Reason.UNKNOWN_FORMAT, root.reason());
    assertTrue(root.getMessage().endsWith("characters in all)"), root.getMessage());
    for (FeedRefusedException e : List.of(header, root)) {
      assertTrue(utf8(e.getMessage()).length < 2048, "a dead-letter header, not a megabyte: " + e.getMessage().length());
    }
  }

  @Test
  void aSalePricesEffectiveDatesTravelWithItAndABadOneRejectsTheRow() throws Exception {
    String header = "id\ttitle\timage_link\tprice\tsale_price\tsale_price_effective_date\n";
    CollectingSink sink = parse(utf8(header
        + "black-friday\tCoat\thttps://img.example/c.jpg\t39.99 USD\t19.99 USD\t2025-11-28T00:00-0800/2025-12-01T23:59-0800\n"
        + "always\tHat\thttps://img.example/h.jpg\t9.99 USD\t4.99 USD\t\n"
        + "no-sale\tScarf\thttps://img.example/s.jpg\t9.99 USD\t\t2025-11-28/2025-12-01\n"
        + "garbled\tBag\thttps://img.example/b.jpg\t9.99 USD\t4.99 USD\tfrom friday\n"));
    assertEquals(List.of("black-friday", "always", "no-sale"), sink.ids());
    Product coat = sink.products.get(0);
    long weekBefore = java.time.Instant.parse("2025-11-21T12:00:00Z").toEpochMilli();
    long friday = java.time.Instant.parse("2025-11-28T12:00:00Z").toEpochMilli();
    assertEquals(new BigDecimal("39.99"), coat.effectivePrice(weekBefore).amount());
    assertEquals(new BigDecimal("19.99"), coat.effectivePrice(friday).amount());
    assertEquals(SaleWindow.ALWAYS, sink.products.get(1).saleWindow());
    assertEquals(SaleWindow.ALWAYS, sink.products.get(2).saleWindow(), "a window without a sale price means nothing");
    assertEquals(1, sink.errors.size());
    assertEquals("garbled", sink.errors.get(0).id());
    assertTrue(sink.errors.get(0).reason().contains("sale_price_effective_date"), sink.errors.get(0).reason());
  }

  @Test
  void duplicateIdsAreRowErrorsAndTheFeedGoesOn() throws Exception {
    CollectingSink sink = parse(utf8(TSV_HEADER + tsvRow("a", "First", "1.00 USD")
        + tsvRow("b", "Other", "2.00 USD") + tsvRow("a", "Second", "3.00 USD")));
    assertEquals(List.of("a", "b"), sink.ids());
    assertEquals("First", sink.products.get(0).title(), "the first occurrence wins");
    assertEquals(List.of(new RowError(4, "a", "duplicate id, first seen on line 2")), sink.errors);
  }

  @Test
  void tenMegabyteRowIsOneRowErrorNotAnOutOfMemory() throws Exception {
    CollectingSink sink = parse(tsvWithHugeRow(10 << 20));
    assertEquals(List.of("before", "after"), sink.ids());
    assertEquals(1, sink.errors.size());
    RowError error = sink.errors.get(0);
    assertEquals(3, error.line());
    assertEquals("huge", error.id());
    assertTrue(error.reason().contains("above the limit of 1048576 bytes"), error.reason());
  }

  @Test
  void rowLimitIsConfigurable() throws Exception {
    FeedParser strict = new FeedParser(FeedOptions.defaults().withMaxRowBytes(2048));
    CollectingSink sink = parse(strict, tsvWithHugeRow(4096));
    assertEquals(List.of("before", "after"), sink.ids());
    assertEquals(1, sink.errors.size());
  }

  @Test
  void badRowsAreReportedWithLineIdAndReason() throws Exception {
    String feed = TSV_HEADER
        + tsvRow("ok", "Fine", "5.00 USD")
        + tsvRow("bad-price", "Broken", "five dollars")
        + tsvRow("bad-currency", "Broken", "5.00 XYZ")
        + "no-image\tTitle\t\t\t\t\t5.00 USD\t\tin stock\t\t\t\t\t\n"
        + "\tNo id\t\t\thttps://img.example/x.jpg\t\t5.00 USD\t\t\t\t\t\t\t\n"
        + "ftp-image\tTitle\t\t\tftp://img.example/x.jpg\t\t5.00 USD\t\t\t\t\t\t\t\n"
        + tsvRow("bad-avail", "Broken", "5.00 USD").replace("in stock", "maybe");
    CollectingSink sink = parse(utf8(feed));
    assertEquals(List.of("ok"), sink.ids());
    assertEquals(6, sink.errors.size());
    assertEquals(new RowError(3, "bad-price", "price 'five dollars' is not '<amount> <ISO currency>', e.g. '12.99 USD'"),
        sink.errors.get(0));
    assertTrue(sink.errors.get(1).reason().contains("unknown currency code 'XYZ'"));
    assertEquals(new RowError(5, "no-image", "missing required attribute 'image_link'"), sink.errors.get(2));
    assertEquals(new RowError(6, "", "missing required attribute 'id'"), sink.errors.get(3));
    assertTrue(sink.errors.get(4).reason().contains("not an http(s) URL"));
    assertTrue(sink.errors.get(5).reason().startsWith("availability 'maybe'"));
  }

  @Test
  void gzipIsDetectedByMagicBytes() throws Exception {
    CollectingSink sink = parse(gzip(utf8(tsvCatalog(5))));
    assertEquals(5, sink.products.size());
  }

  @Test
  void aFeedWithMoreProductsThanASyncMayHoldIsRefused() throws Exception {
    FeedParser four = new FeedParser(FeedOptions.defaults().withMaxProducts(4));
    assertEquals(4, parse(four, utf8(tsvCatalog(4))).products.size());
    FeedRefusedException e = assertThrows(FeedRefusedException.class, () -> parse(four, utf8(tsvCatalog(5))));
    assertEquals(FeedRefusedException.Reason.TOO_LARGE, e.reason());
    assertTrue(e.getMessage().contains("more than 4 products"), e.getMessage());
  }

  @Test
  void decompressedSizeIsBounded() {
    byte[] bomb = gzip(utf8(TSV_HEADER + "\n".repeat(1 << 20)));
    FeedParser small = new FeedParser(FeedOptions.defaults().withMaxFeedBytes(64 * 1024));
    FeedRefusedException e = assertThrows(FeedRefusedException.class, () -> parse(small, bomb));
    assertEquals(FeedRefusedException.Reason.TOO_LARGE, e.reason());
  }

  @Test
  void csvWithQuotedMultilineFieldsAndEmbeddedQuotes() throws Exception {
    String csv = "id,title,description,image_link,price\r\n"
        + "c1,\"Shirt, \"\"blue\"\"\",\"line one\r\nline two\",https://img.example/c1.jpg,9.50 USD\r\n"
        + "c2,Plain,,https://img.example/c2.jpg,USD 4\r\n";
    CollectingSink sink = parse(utf8(csv));
    assertEquals(List.of("c1", "c2"), sink.ids());
    assertEquals("Shirt, \"blue\"", sink.products.get(0).title());
    assertEquals("line one line two", sink.products.get(0).description());
    assertEquals(new BigDecimal("4"), sink.products.get(1).price().amount());
  }

  @Test
  void anInchMarkInAnUnquotedCsvFieldIsALiteralQuoteNotTheStartOfAQuotedField() throws Exception {
    // Were the quote taken as opening a field, every later line would be swallowed into one record
    // and those products counted as removed from the feed.
    String csv = "id,title,image_link,price\n"
        + "p1,12\" pan,https://img.example/p1.jpg,10 USD\n"
        + "p2,Lid,https://img.example/p2.jpg,4 USD\n"
        + "p3,\"Pan, 14\"\" wide\",https://img.example/p3.jpg,12 USD\n"
        + "p4,Spatula,https://img.example/p4.jpg,3 USD\n";
    CollectingSink sink = parse(utf8(csv));
    assertEquals(List.of("p1", "p2", "p3", "p4"), sink.ids());
    assertEquals("12\" pan", sink.products.get(0).title());
    assertEquals("Pan, 14\" wide", sink.products.get(2).title());
  }

  @Test
  void aQuotedFieldNeverClosedRefusesTheFeedInsteadOfRemovingEveryLaterProduct() throws Exception {
    // An exporter that quotes fields without doubling the quotes inside: "12"" reads as an escaped
    // quote, and the field runs to the end of the file. As one rejected row, p3..p5 would count as
    // removed from the catalog.
    String csv = "id,title,image_link,price\n"
        + "p1,Pan,https://img.example/p1.jpg,10 USD\n"
        + "p2,\"Skillet 12\"\",https://img.example/p2.jpg,10 USD\n"
        + "p3,Lid,https://img.example/p3.jpg,4 USD\n"
        + "p4,Pot,https://img.example/p4.jpg,4 USD\n"
        + "p5,Whisk,https://img.example/p5.jpg,4 USD\n";
    FeedRefusedException e = refused(utf8(csv));
    assertEquals(FeedRefusedException.Reason.MALFORMED, e.reason());
    assertTrue(e.getMessage().contains("line 3"), e.getMessage());
    // A quoted field closed by the file's last character is complete.
    assertEquals(List.of("q1"), parse(utf8("id,title,image_link,price\nq1,Pan,https://img.example/q1.jpg,\"10 USD\""))
        .ids());
  }

  @Test
  void semicolonCsvWithDecimalCommaPrices() throws Exception {
    String csv = "id;title;image_link;price\nd1;Kleid;https://img.example/d1.jpg;29,90 EUR\n";
    CollectingSink sink = parse(utf8(csv));
    assertEquals(new Money(new BigDecimal("29.9"), java.util.Currency.getInstance("EUR")),
        sink.products.get(0).price());
  }

  @Test
  void aSemicolonCsvAfterABlankLineKeepsItsDelimiter() throws Exception {
    // The delimiter was counted on the (empty) first line: ',' won, and every column went missing.
    String csv = "\nid;title;price;image_link\n1;Boot;3,50 EUR;https://img.example/1.jpg\n";
    for (byte[] feed : List.of(utf8(csv), withUtf8Bom(csv))) {
      CollectingSink sink = parse(feed);
      assertEquals(List.of("1"), sink.ids());
      assertEquals(new BigDecimal("3.5"), sink.products.get(0).price().amount());
    }
  }

  @Test
  void idsTheIndexCouldNotKeyAreRowErrorsAtTheFeed() throws Exception {
    // U+0085 is what a Windows-1252 ellipsis becomes when read as Latin-1; \ud800 has no pair.
    String row = "{\"id\":\"%s\",\"title\":\"Boot\",\"image_link\":\"https://img.example/b.jpg\",\"price\":\"3 GBP\"}\n";
    String jsonl = row.formatted("AB\\u0085C") + row.formatted("x\\ud800") + row.formatted("ok-\\ud83d\\udc62");
    CollectingSink sink = parse(utf8(jsonl));
    assertEquals(List.of("ok-\ud83d\udc62"), sink.ids(), "a paired surrogate (an emoji) is a whole character");
    assertEquals(List.of("id contains control characters", "id contains an unpaired UTF-16 surrogate"),
        sink.errors.stream().map(RowError::reason).toList());
  }

  @Test
  void idsTooLongForAnObjectStoreKeyOnceEncodedAreRowErrorsAtTheFeed() throws Exception {
    // 28 characters, within Merchant Center's 50, but 252 bytes URL-encoded: the image-indexer
    // refuses that sku (invalid-sku), so published, the product was dead-lettered downstream.
    String tooLong = "\u5546".repeat(28);
    String fits = "\u5546".repeat(27);
    CollectingSink sink = parse(utf8(TSV_HEADER + tsvRow(tooLong, "Tea", "3.00 USD") + tsvRow(fits, "Tea", "3.00 USD")));
    assertEquals(List.of(fits), sink.ids());
    assertEquals(1, sink.errors.size());
    assertEquals(tooLong, sink.errors.get(0).id());
    assertEquals("id " + io.visualsearch.topics.SkuSegment.problem(tooLong), sink.errors.get(0).reason());
    assertTrue(sink.errors.get(0).reason().startsWith("id is 252 bytes once URL-encoded"), sink.errors.get(0).reason());
  }

  @Test
  void jsonLinesWithArraysPriceObjectsAndABrokenLine() throws Exception {
    String jsonl = "{\"id\":\"j1\",\"title\":\"Boot\",\"image_link\":\"https://img.example/j1.jpg\","
        + "\"price\":{\"value\":\"59.00\",\"currency\":\"GBP\"},\"additional_image_links\":"
        + "[\"https://img.example/j1b.jpg\"],\"availability\":\"out of stock\",\"shipping\":{\"x\":[1,2]}}\n"
        + "{\"id\":\"j2\",\"title\":\"Broken\"\n"
        + "{\"id\":\"j3\",\"title\":\"Sock\",\"image_link\":\"https://img.example/j3.jpg\",\"price\":\"3 GBP\"}\n";
    CollectingSink sink = parse(utf8(jsonl));
    assertEquals(List.of("j1", "j3"), sink.ids());
    Product boot = sink.products.get(0);
    assertEquals("59 GBP".replace("59", "59.00"), boot.price().toString());
    assertEquals(Availability.OUT_OF_STOCK, boot.availability());
    assertEquals(List.of("https://img.example/j1b.jpg"), boot.additionalImageLinks());
    assertEquals(1, sink.errors.size());
    assertEquals(2, sink.errors.get(0).line());
    assertTrue(sink.errors.get(0).reason().startsWith("malformed JSON"));
  }

  @Test
  void merchantRssWithTheGoogleNamespace() throws Exception {
    CollectingSink sink = new CollectingSink();
    FeedSummary summary = parser.parse(new ByteArrayInputStream(utf8(
        rss(rssItem("r1", "Wool coat", "120.00 USD") + rssItem("r2", "Scarf", "15 USD")))), sink);
    assertEquals(FeedFormat.RSS, summary.format());
    assertEquals(List.of("r1", "r2"), sink.ids());
    Product coat = sink.products.get(0);
    assertEquals("Wool coat", coat.title());
    assertEquals("Nice & warm", coat.description());
    assertEquals("https://shop.example/p/r1", coat.link());
    assertEquals(List.of("https://img.example/r1-2.jpg", "https://img.example/r1-3.jpg"), coat.additionalImageLinks());
    assertEquals("120.00 USD", coat.price().toString(), "nested g:shipping price does not override");
    assertEquals(Availability.PREORDER, coat.availability());
  }

  @Test
  void anXmlAdditionalImageLinkIsOneLinkCommasAndAll() throws Exception {
    String cloudinary = "https://res.example.com/image/upload/w_500,h_500/a.jpg";
    CollectingSink sink = parse(utf8(rss(rssItem("r1", "Wool coat", "120.00 USD")
        .replace("https://img.example/r1-2.jpg", cloudinary))));
    assertEquals(List.of(cloudinary, "https://img.example/r1-3.jpg"), sink.products.get(0).additionalImageLinks());
  }

  @Test
  void markupInsideTheXmlPrologIsNotTakenForTheRootElement() throws Exception {
    String rss = rss(rssItem("r1", "Wool coat", "120.00 USD"));
    CollectingSink sink = parse(utf8(rss.replace("?>\n", "?><!-- by <Shop> --><?generator <Shop>?>\n")));
    assertEquals(List.of("r1"), sink.ids());
    FeedRefusedException e = refused(utf8(rss.replace("?>\n", "?><!DOCTYPE rss [<!ENTITY shop '<Shop>'>]>\n")));
    assertTrue(e.getMessage().contains("DOCTYPE"), "the DOCTYPE is refused, not its content taken for a root: " + e);
  }

  @Test
  void merchantAtomWithLinkHref() throws Exception {
    CollectingSink sink = new CollectingSink();
    FeedSummary summary = parser.parse(new ByteArrayInputStream(utf8(
        atom(atomEntry("a1", "Sandal", "20.00 EUR")))), sink);
    assertEquals(FeedFormat.ATOM, summary.format());
    Product sandal = sink.products.get(0);
    assertEquals("a1", sandal.id(), "g:id, not the Atom entry id");
    assertEquals("https://shop.example/p/a1", sandal.link());
    assertEquals("Summary of a1", sandal.description());
    assertEquals(Availability.BACKORDER, sandal.availability());
  }

  @Test
  void xmlDeclaredEncodingIsHonoured() throws Exception {
    String xml = rss(rssItem("l1", "Café crème", "3.00 EUR"))
        .replace("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"");
    CollectingSink sink = parse(latin1(xml));
    assertEquals("Café crème", sink.products.get(0).title());
  }

  @Test
  void invalidUtf8InXmlIsAnEncodingRefusal() {
    FeedRefusedException e = refused(latin1(rss(rssItem("l1", "Café", "3.00 EUR"))));
    assertEquals(FeedRefusedException.Reason.ENCODING, e.reason(), e.getMessage());
  }

  @Test
  void externalEntitiesAreNeverResolved() {
    FeedRefusedException e = refused(utf8(xxeFeed()));
    assertEquals(FeedRefusedException.Reason.MALFORMED, e.reason());
    assertFalse(e.getMessage().contains("root:"), "no file content may leak into the message");
  }

  @Test
  void entityExpansionBombIsRefusedNotExpanded() {
    FeedRefusedException e = refused(utf8(billionLaughs()));
    assertEquals(FeedRefusedException.Reason.MALFORMED, e.reason());
  }

  @Test
  void oversizedXmlItemIsARowError() throws Exception {
    FeedParser strict = new FeedParser(FeedOptions.defaults().withMaxRowBytes(4096));
    String big = rssItem("big", "x".repeat(100_000), "1.00 USD");
    CollectingSink sink = parse(strict, utf8(rss(rssItem("s1", "Small", "1.00 USD") + big)));
    assertEquals(List.of("s1"), sink.ids());
    assertEquals("big", sink.errors.get(0).id());
  }

  @Test
  void theXmlItemLimitCountsUtf8BytesNotCharacters() throws Exception {
    // 2,000 CJK characters are 6,000 UTF-8 bytes: over a 4,096-byte limit though under it in chars.
    FeedParser strict = new FeedParser(FeedOptions.defaults().withMaxRowBytes(4096));
    String cjk = rssItem("cjk", "Tea", "1.00 USD").replace("Nice &amp; warm", "\u7da0".repeat(2_000));
    String fits = rssItem("fits", "Tea", "1.00 USD").replace("Nice &amp; warm", "\u7da0".repeat(1_000));
    CollectingSink sink = parse(strict, utf8(rss(rssItem("s1", "Small", "1.00 USD") + cjk + fits)));
    assertEquals(List.of("s1", "fits"), sink.ids());
    assertEquals(1, sink.errors.size());
    RowError error = sink.errors.get(0);
    assertEquals("cjk", error.id());
    assertTrue(error.reason().matches("item is \\d+ bytes \\(UTF-8\\), above the row limit of 4096 bytes"), error.reason());
  }

  @Test
  void anOversizedXmlItemIsNamedEvenWhenItsIdComesAfterTheLongText() throws Exception {
    FeedParser strict = new FeedParser(FeedOptions.defaults().withMaxRowBytes(4096));
    String late = "<item>\n<description>" + "x".repeat(10_000) + "</description>\n<g:id>late</g:id>\n"
        + "<title>Late</title></item>\n";
    CollectingSink sink = parse(strict, utf8(rss(late + rssItem("s1", "Small", "1.00 USD"))));
    assertEquals(List.of("s1"), sink.ids());
    assertEquals("late", sink.errors.get(0).id());
  }

  @Test
  void aProductTheCallersCheckRefusesIsARowErrorAndALaterValidRowOfItsIdWins() throws Exception {
    ProductCheck shortDescriptions = p -> p.description().length() > 20 ? "description of " + p.id() + " too long" : null;
    FeedParser checked = new FeedParser(FeedOptions.defaults(), shortDescriptions);
    String longRow = tsvRow("a", "Long", "1.00 USD").replace("A fine thing", "y".repeat(50));
    CollectingSink sink = parse(checked, utf8(TSV_HEADER + longRow + tsvRow("a", "Short", "2.00 USD")));
    assertEquals(List.of("a"), sink.ids());
    assertEquals("Short", sink.products.get(0).title());
    assertEquals(List.of(new RowError(2, "a", "description of a too long")), sink.errors);
  }

  @Test
  void anAtomEntryRepeatingLinksPastTheRowLimitIsARowErrorNotHeldInMemory() throws Exception {
    // Each href is a 1 MiB token, under the parser's limit; together they are more than this heap.
    byte[] link = utf8("<link href=\"https://shop.example/" + "a".repeat(1 << 20) + "\"/>\n");
    long links = Runtime.getRuntime().maxMemory() / link.length + 64;
    String entry = atomEntry("many", "Linked", "1.00 USD");
    int cut = entry.indexOf("<summary>");
    String feed = atom(entry.substring(0, cut) + "\u0000" + entry.substring(cut) + atomEntry("s1", "Small", "1.00 USD"));
    int hole = feed.indexOf('\u0000');
    InputStream repeated = new SequenceInputStream(Collections.enumeration(Stream.concat(Stream.concat(
        Stream.of(utf8(feed.substring(0, hole))), Stream.generate(() -> link).limit(links)),
        Stream.of(utf8(feed.substring(hole + 1)))).map(ByteArrayInputStream::new).toList()));
    CollectingSink sink = new CollectingSink();
    parser.parse(repeated, sink);
    assertEquals(List.of("s1"), sink.ids(), "the entry after it is read");
    assertEquals(1, sink.errors.size());
    assertEquals("many", sink.errors.get(0).id());
    assertTrue(sink.errors.get(0).reason().contains("above the row limit"), sink.errors.get(0).reason());
  }

  @Test
  void aRowErrorQuotingAHugeFieldStaysShortEnoughToDeadLetter() throws Exception {
    String hugePrice = "1" + "0".repeat(400_000) + "x USD";
    String hugeId = "i".repeat(400_000);
    String extraFields = hugeId + "\tExtra" + "\t".repeat(13) + "one field too many\n";
    CollectingSink sink = parse(utf8(TSV_HEADER + tsvRow("p1", "Priced", hugePrice) + extraFields
        + tsvRow("ok", "Fine", "1.00 USD")));
    assertEquals(List.of("ok"), sink.ids());
    assertEquals(2, sink.errors.size());
    for (RowError e : sink.errors) {
      assertTrue(e.toString().length() < 1200, "a dead-letter record, not a megabyte: " + e.toString().length());
    }
    assertTrue(sink.errors.get(0).reason().startsWith("price '1000"), sink.errors.get(0).reason());
    assertTrue(sink.errors.get(0).reason().endsWith("characters in all)"), sink.errors.get(0).reason());
    assertEquals("i".repeat(50), sink.errors.get(1).id(), "an id past the longest valid one is cut there");
  }

  @Test
  void aGiantAttributeValueOrCommentRefusesTheFeedInsteadOfFillingTheHeap() {
    // 64 MiB in one token; the JDK's parser held each whole (400 MiB exhausted a 256 MiB heap).
    String giant = "a".repeat(64 << 20);
    String item = rssItem("s1", "Small", "1.00 USD");
    String inAttribute = item.replace("<g:id>", "<g:id note=\"" + giant + "\">");
    String inComment = item.replace("<g:id>", "<!-- " + giant + " --><g:id>");
    for (String feed : List.of(rss(inAttribute), rss(inComment))) {
      FeedRefusedException e = refused(utf8(feed));
      assertEquals(FeedRefusedException.Reason.MALFORMED, e.reason());
      assertTrue(e.getMessage().contains("limit (" + XmlFeedReader.tokenLimit(FeedOptions.DEFAULT_MAX_ROW_BYTES) + ") exceeded"),
          e.getMessage());
    }
    assertEquals(16 << 20, XmlFeedReader.tokenLimit(1 << 20), "well above a 1 MiB row: an oversized row stays a row error");
  }

  @Test
  void anElementNameOfHundredsOfMegabytesRefusesTheFeedWithoutFillingTheHeap() {
    // Woodstox bounds no name: 300M characters (a few hundred KB of gzip) ended the heap.
    String head = rss("<item>\n<").substring(0, rss("<item>\n<").indexOf("</channel>"));
    long nameChars = 300_000_000L;
    Counted feed = new Counted(sequence(List.of(stream(head), filler('a', nameChars), stream("/>\n</item></channel></rss>\n"))));
    FeedRefusedException e = assertThrows(FeedRefusedException.class, () -> parser.parse(gzipping(feed), new CollectingSink()));
    assertEquals(FeedRefusedException.Reason.MALFORMED, e.reason(), e.getMessage());
    long limit = XmlFeedReader.tagLimit(FeedOptions.DEFAULT_MAX_ROW_BYTES);
    assertTrue(e.getMessage().contains("longer than " + limit + " bytes, starting at byte " + (utf8(head).length - 1)),
        e.getMessage());
    assertTrue(feed.count < nameChars / 2, "stopped near the limit, not at the end of the name: " + feed.count);
  }

  @Test
  void oneTagsAttributesPilingUpPastTheTagLimitRefuseTheFeedWithoutFillingTheHeap() {
    // Each value is under the parser's 16 MiB per value; together they held 960M characters.
    long valueChars = 15_000_000L;
    String head = rss("<item>\n<g:id").substring(0, rss("<item>\n<g:id").indexOf("</channel>"));
    List<InputStream> parts = new java.util.ArrayList<>(List.of(stream(head)));
    for (int i = 0; i < 64; i++) {
      parts.add(stream(" a" + i + "=\""));
      parts.add(filler('x', valueChars));
      parts.add(stream("\""));
    }
    parts.add(stream(">s1</g:id>\n</item></channel></rss>\n"));
    Counted feed = new Counted(sequence(parts));
    FeedRefusedException e = assertThrows(FeedRefusedException.class, () -> parser.parse(gzipping(feed), new CollectingSink()));
    assertEquals(FeedRefusedException.Reason.MALFORMED, e.reason(), e.getMessage());
    assertTrue(e.getMessage().contains("longer than " + XmlFeedReader.tagLimit(FeedOptions.DEFAULT_MAX_ROW_BYTES)
        + " bytes, starting at byte " + (utf8(head).length - "<g:id".length())), e.getMessage());
    assertTrue(feed.count < 32 * valueChars, "stopped near the limit, not at the tag's end: " + feed.count);
  }

  @Test
  void longButOrdinaryTagsStillParse() throws Exception {
    // Up to the tag limit: one value as long as the parser takes and a row's worth beside it, 32
    // attributes, namespaces declared on the root, '>' in values, markup in comments and CDATA.
    long limit = XmlFeedReader.tagLimit(FeedOptions.DEFAULT_MAX_ROW_BYTES);
    String note = "n".repeat(XmlFeedReader.tokenLimit(FeedOptions.DEFAULT_MAX_ROW_BYTES) - 16);
    String rest = "r".repeat((int) (limit - note.length()) - 64);
    String longTag = "<g:brand note=\"" + note + "\" rest=\"" + rest + "\">Acme</g:brand>";
    StringBuilder many = new StringBuilder("<g:product_type");
    for (int i = 0; i < XmlFeedReader.MAX_ATTRIBUTES_PER_ELEMENT; i++) {
      many.append(" a").append(i).append("=\"a > b\"");
    }
    many.append("><!-- <not a tag " + "'".repeat(100) + " --><![CDATA[red <b> ]]]></g:product_type>");
    String namespaces = IntStream.range(0, 20).mapToObj(i -> " xmlns:n" + i + "=\"urn:n" + i + "\"")
        .collect(Collectors.joining());
    String feed = rss(rssItem("s1", "Small", "1.00 USD").replace("<g:brand>Acme</g:brand>", longTag)
        + rssItem("s2", "Red", "2.00 USD").replace("<g:brand>", many + "<g:brand>"))
        .replace("<rss ", "<rss" + namespaces + " ");
    assertTrue(longTag.length() < limit && longTag.indexOf('>') > limit - 100, "just under the limit");
    CollectingSink sink = parse(utf8(feed));
    assertEquals(List.of("s1", "s2"), sink.ids());
    assertEquals("red <b> ]", sink.products.get(1).productType());
    assertEquals(List.of("s1"), parse(utf16le(rss(rssItem("s1", "Small", "1.00 USD"))
        .replace("UTF-8", "UTF-16"))).ids(), "UTF-16 is read by code unit");
  }

  @Test
  void moreAttributesOnOneElementThanAFeedNeedsRefuseIt() {
    StringBuilder tag = new StringBuilder("<g:product_type");
    for (int i = 0; i <= XmlFeedReader.MAX_ATTRIBUTES_PER_ELEMENT; i++) {
      tag.append(" a").append(i).append("=\"\"");
    }
    FeedRefusedException e = refused(utf8(rss(rssItem("s1", "Small", "1.00 USD").replace("<g:brand>", tag + "/><g:brand>"))));
    assertEquals(FeedRefusedException.Reason.MALFORMED, e.reason(), e.getMessage());
  }

  @Test
  void explicitFormatOverridesSniffing() {
    FeedParser forcedCsv = new FeedParser(FeedOptions.defaults().withFormat(FeedFormat.CSV));
    FeedRefusedException e = assertThrows(FeedRefusedException.class,
        () -> parse(forcedCsv, utf8(tsvCatalog(1))));
    assertEquals(FeedRefusedException.Reason.MISSING_COLUMNS, e.reason(),
        "read as CSV, the tab-separated header is one unknown column");
  }

  @Test
  void unrecognisableOrEmptyContentIsRefused() {
    assertEquals(FeedRefusedException.Reason.UNKNOWN_FORMAT, refused(new byte[0]).reason());
    assertEquals(FeedRefusedException.Reason.UNKNOWN_FORMAT, refused(utf8("just some words\n")).reason());
    assertEquals(FeedRefusedException.Reason.UNKNOWN_FORMAT, refused(utf8("<html><body>404</body></html>")).reason());
    assertEquals(FeedRefusedException.Reason.UNKNOWN_FORMAT, refused(utf8("[{\"id\":1}]")).reason());
  }

  @Test
  void moneyParsing() {
    assertEquals("12.99 USD", Money.parse("12.99 USD").toString());
    assertEquals("12.99 USD", Money.parse("USD12.99").toString());
    assertEquals("1299.00 USD", Money.parse("1,299.00 usd").toString());
    assertEquals("1000 JPY", Money.parse("1000 JPY").toString());
    assertEquals(Money.parse("12.9 USD"), Money.parse("12.90 USD"));
    assertThrows(IllegalArgumentException.class, () -> Money.parse("-1.00 USD"));
    assertThrows(IllegalArgumentException.class, () -> Money.parse("12.99"));
    assertThrows(IllegalArgumentException.class, () -> Money.parse("1.2.3 USD"));
  }

  @Test
  void concatenatedGzipMembersAreOneFeed() throws Exception {
    // What `cat part1.gz part2.gz` or a streaming exporter writes.
    String all = tsvCatalog(20);
    int cut = all.indexOf("p-10\t");
    CollectingSink sink = parse(concat(gzip(utf8(all.substring(0, cut))), gzip(utf8(all.substring(cut)))));
    assertEquals(20, sink.products.size());
  }

  @Test
  void aDamagedGzipMemberAfterTheFirstIsAnIoErrorNotTheEndOfTheFeed() {
    // The JDK's GZIPInputStream takes a malformed member header for the end of the data: the rows
    // after it were missing from the feed, hence deleted from the catalog (tombstoned).
    String all = tsvCatalog(20);
    int cut = all.indexOf("p-10\t");
    byte[] second = gzip(utf8(all.substring(cut)));
    second[0] = 0;
    byte[] damaged = concat(gzip(utf8(all.substring(0, cut))), second);
    IOException e = assertThrows(IOException.class, () -> parse(damaged));
    assertTrue(e.getMessage().contains("damaged"), e.getMessage());
  }

  @Test
  void gzipHeadersWithNameCommentExtraFieldAndHeaderCrcAreRead() throws Exception {
    // gzip(1) stores the file name; other tools add a comment, an extra field or a header CRC.
    CollectingSink sink = parse(gzipWithFullHeader(utf8(tsvCatalog(5)), "feed.tsv", "nightly export"));
    assertEquals(5, sink.products.size());
  }

  @Test
  void truncatedGzipIsAnIoErrorNotASilentPartialFeed() {
    byte[] gz = gzip(utf8(tsvCatalog(200)));
    byte[] cut = java.util.Arrays.copyOf(gz, gz.length / 2);
    assertThrows(IOException.class, () -> parse(cut));
  }
}
