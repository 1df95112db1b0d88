package io.visualsearch.searchapi.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.searchapi.ApiException;
import io.visualsearch.searchapi.image.CropBox;
import io.visualsearch.searchapi.search.SearchQuery;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SearchRequestParserTest {

  static final byte[] IMAGE = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 1, 2, 3, 0, 13, 10, 45, 45};
  static final String BOUNDARY = "----vs-test-boundary";

  final SearchRequestParser parser = new SearchRequestParser(1024 * 1024, 10);

  static byte[] multipart(byte[] image, Map<String, String> fields) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    if (image != null) {
      out.writeBytes(("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"p.jpg\"\r\n"
          + "Content-Type: image/jpeg\r\n\r\n").getBytes(StandardCharsets.UTF_8));
      out.writeBytes(image);
      out.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
    }
    fields.forEach((k, v) -> out.writeBytes(("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"" + k
        + "\"\r\n\r\n" + v + "\r\n").getBytes(StandardCharsets.UTF_8)));
    out.writeBytes(("--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.UTF_8));
    return out.toByteArray();
  }

  SearchQuery parseMultipart(byte[] image, Map<String, String> fields) {
    return parser.parse("multipart/form-data; boundary=" + BOUNDARY, multipart(image, fields));
  }

  ApiException refused(String type, String body) {
    return assertThrows(ApiException.class, () -> parser.parse(type, body.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void multipartWithEveryField() {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("k", "25");
    f.put("crop", "1,2,30,40");
    f.put("category", "Shoes");
    f.put("min_price", "10");
    f.put("max_price", "19.99");
    f.put("availability", "in stock");
    f.put("brand", "Acme");
    SearchQuery q = parseMultipart(IMAGE, f);
    assertArrayEquals(IMAGE, q.image());
    assertEquals(25, q.k());
    assertEquals(new CropBox(1, 2, 30, 40), q.crop());
    assertEquals("Shoes", q.filters().category());
    assertEquals(10_000_000L, q.filters().minPriceMicros());
    assertEquals(19_990_000L, q.filters().maxPriceMicros());
    assertEquals("in_stock", q.filters().availability());
    assertEquals("Acme", q.filters().brand());
  }

  @Test
  void multipartDefaults() {
    SearchQuery q = parseMultipart(IMAGE, Map.of());
    assertEquals(10, q.k());
    assertNull(q.crop());
    assertEquals(true, q.filters().isEmpty());
  }

  @Test
  void jsonWithCropObjectAndFilters() {
    String b64 = Base64.getEncoder().encodeToString(IMAGE);
    SearchQuery q = parser.parse("application/json; charset=utf-8", ("{\"image_base64\":\"" + b64 + "\",\"k\":3,"
        + "\"crop\":{\"x\":0,\"y\":5,\"w\":10,\"h\":20},\"filters\":{\"category\":\"Bags\",\"max_price\":50}}")
        .getBytes(StandardCharsets.UTF_8));
    assertArrayEquals(IMAGE, q.image());
    assertEquals(3, q.k());
    assertEquals(new CropBox(0, 5, 10, 20), q.crop());
    assertEquals("Bags", q.filters().category());
    assertEquals(50_000_000L, q.filters().maxPriceMicros());
  }

  /**
   * A filter this version does not know (a newer client's "condition", or the archive's
   * "max_price_micros" copied into a request) was dropped, and the results came back unfiltered.
   */
  @Test
  void aFilterThisVersionDoesNotKnowIsRefusedNotDropped() {
    String b64 = Base64.getEncoder().encodeToString(IMAGE);
    for (String unknown : new String[] {"\"condition\":\"new\"", "\"max_price_micros\":5000000"}) {
      ApiException e = assertThrows(ApiException.class, () -> parser.parse("application/json",
          ("{\"image_base64\":\"" + b64 + "\",\"filters\":{\"category\":\"Bags\"," + unknown + "}}")
              .getBytes(StandardCharsets.UTF_8)), unknown);
      assertEquals(400, e.status());
      assertEquals("unknown_filter", e.code());
    }
  }

  @Test
  void jsonAcceptsADataUrl() {
    String b64 = "data:image/jpeg;base64," + Base64.getEncoder().encodeToString(IMAGE);
    SearchQuery q = parser.parse("application/json", ("{\"image_base64\":\"" + b64 + "\"}").getBytes(StandardCharsets.UTF_8));
    assertArrayEquals(IMAGE, q.image());
  }

  @Test
  void jsonBase64IsDecodedFromTheBodyWithItsEscapesAndLineBreaks() {
    byte[] image = new byte[3000];
    new java.util.Random(7).nextBytes(image);
    String wrapped = Base64.getMimeEncoder().encodeToString(image); // CRLF every 76 characters
    String escaped = wrapped.replace("/", "\\/").replace("\r\n", "\\r\\n");
    String body = "{\"k\":2,\"crop\":\"1,2,3,4\", \"image_base64\" : \"" + escaped + "\",\"filters\":{\"brand\":\"B\"}}";
    SearchQuery q = parser.parse("application/json", body.getBytes(StandardCharsets.UTF_8));
    assertArrayEquals(image, q.image());
    assertEquals(2, q.k());
    assertEquals("B", q.filters().brand());
    // The same body with a byte-order mark, and as UTF-16: read through the parser's text instead.
    byte[] utf8 = body.getBytes(StandardCharsets.UTF_8);
    byte[] bom = new byte[utf8.length + 3];
    bom[0] = (byte) 0xef;
    bom[1] = (byte) 0xbb;
    bom[2] = (byte) 0xbf;
    System.arraycopy(utf8, 0, bom, 3, utf8.length);
    assertArrayEquals(image, parser.parse("application/json", bom).image());
    assertArrayEquals(image, parser.parse("application/json", body.getBytes(StandardCharsets.UTF_16BE)).image());
    // The last image_base64 wins, as it did in a tree.
    assertArrayEquals(IMAGE, parser.parse("application/json", ("{\"image_base64\":5,\"image_base64\":\""
        + Base64.getEncoder().encodeToString(IMAGE) + "\"}").getBytes(StandardCharsets.UTF_8)).image());
    assertEquals("missing_image", refused("application/json", "{\"image_base64\":\"AAAA\",\"image_base64\":null}").code());
    assertEquals("missing_image", refused("application/json", "{\"image_base64\":\"\"}").code());
    assertEquals("malformed_json", refused("application/json", "{\"image_base64\":\"AA\u0001AA\"}").code());
    assertEquals("malformed_json", refused("application/json", "[1]").code());
    assertEquals("malformed_json", refused("application/json", "").code());
    assertEquals("invalid_image_base64", refused("application/json", "{\"image_base64\":\"AA\\tAA\"}").code());
  }

  @Test
  void kOutOfBoundsOrNotANumberIs400() {
    for (String k : new String[] {"0", "101", "1000000000", "-1", "ten", "1.5", "99999999999999"}) {
      ApiException e = assertThrows(ApiException.class, () -> parseMultipart(IMAGE, Map.of("k", k)), k);
      assertEquals(400, e.status());
      assertEquals("invalid_k", e.code());
    }
    assertEquals("invalid_k", refused("application/json", "{\"image_base64\":\"AAAA\",\"k\":1e9}").code());
    assertEquals("invalid_k", refused("application/json", "{\"image_base64\":\"AAAA\",\"k\":\"5\"}").code());
  }

  @Test
  void aPriceIsPlainDigitsUpToItsScaleAndAnExponentIsRefusedBeforeAnyArithmetic() {
    // BigDecimal parses "1e-999999999" too, and rounding it to micros allocated ~2 GB: the guard
    // lets through only plain digits, at most 13 before the point and 18 after it.
    assertEquals(1_000_000_000_000_000_000L, SearchRequestParser.price("1000000000000", "min_price"));
    assertEquals(1L, SearchRequestParser.price("0.000000500000000000", "min_price"));
    assertEquals(0L, SearchRequestParser.price("0.000000000000000001", "min_price"));
    String notPlain = "min_price must be a decimal amount such as 19.99";
    for (String raw : new String[] {"0.0000000000000000001", "10000000000000", "1e2", "1E2", "1e+5", "1e-5",
        "1.5e-3", "1e-999999999"}) {
      ApiException e = assertThrows(ApiException.class, () -> SearchRequestParser.price(raw, "min_price"), raw);
      assertEquals(400, e.status(), raw);
      assertEquals("invalid_min_price", e.code(), raw);
      assertEquals(notPlain, e.getMessage(), raw);
    }
    // Plain, but beyond the range: refused for its size, not its form.
    assertEquals("min_price must be between 0 and 10^12",
        assertThrows(ApiException.class, () -> SearchRequestParser.price("9999999999999", "min_price")).getMessage());
    // The same guard on both fields and both request forms.
    assertEquals("invalid_min_price", refused("application/json",
        "{\"image_base64\":\"AAAA\",\"filters\":{\"min_price\":\"1e-999999999\"}}").code());
    assertEquals("invalid_max_price", refused("application/json",
        "{\"image_base64\":\"AAAA\",\"filters\":{\"max_price\":\"1e-5000000\"}}").code());
    assertEquals("invalid_max_price",
        assertThrows(ApiException.class, () -> parseMultipart(IMAGE, Map.of("max_price", "1e-5000000"))).code());
  }

  @Test
  void malformedBodiesAre4xx() {
    assertEquals("malformed_json", refused("application/json", "{\"image_base64\": ").code());
    assertEquals("malformed_json", refused("application/json", "[1,2]").code());
    assertEquals("missing_image", refused("application/json", "{\"k\":5}").code());
    assertEquals("invalid_image_base64", refused("application/json", "{\"image_base64\":\"***\"}").code());
    assertEquals("invalid_crop", refused("application/json", "{\"image_base64\":\"AAAA\",\"crop\":{\"x\":1}}").code());
    assertEquals("invalid_crop", refused("application/json", "{\"image_base64\":\"AAAA\",\"crop\":\"1,2,0,4\"}").code());
    assertEquals("invalid_filters", refused("application/json", "{\"image_base64\":\"AAAA\",\"filters\":[1]}").code());
    assertEquals("invalid_min_price", refused("application/json", "{\"image_base64\":\"AAAA\",\"filters\":{\"min_price\":\"-3\"}}").code());
    assertEquals("invalid_filters", refused("application/json", "{\"image_base64\":\"AAAA\",\"filters\":{\"min_price\":9,\"max_price\":2}}").code());
    assertEquals("invalid_availability", refused("application/json",
        "{\"image_base64\":\"AAAA\",\"filters\":{\"availability\":\"available\"}}").code());
    assertEquals("invalid_availability", assertThrows(ApiException.class,
        () -> parseMultipart(IMAGE, Map.of("availability", "sold out"))).code());
    assertEquals("malformed_multipart", refused("multipart/form-data", "whatever").code());
    assertEquals(415, refused("text/plain", "hello").status());
    assertEquals(415, refused(null, "hello").status());
    ApiException noImage = assertThrows(ApiException.class, () -> parseMultipart(null, Map.of("k", "3")));
    assertEquals("missing_image", noImage.code());
    ApiException badCrop = assertThrows(ApiException.class, () -> parseMultipart(IMAGE, Map.of("crop", "1,2,3")));
    assertEquals("invalid_crop", badCrop.code());
  }

  @Test
  void unknownJsonFieldsAreRefusedByNameNeverBuilt() {
    // 4 MiB of empty objects: as a tree, ~30 times the body in nodes, far past the 3 bodies the
    // upload budget reserves for a request.
    int n = 1_400_000;
    StringBuilder body = new StringBuilder(n * 3 + 64).append("{\"image_base64\":\"")
        .append(Base64.getEncoder().encodeToString(IMAGE)).append("\",\"k\":3,\"pad\":[");
    for (int i = 0; i < n; i++) {
      body.append(i == 0 ? "{}" : ",{}");
    }
    byte[] bytes = body.append("]}").toString().getBytes(StandardCharsets.UTF_8);
    SearchRequestParser roomy = new SearchRequestParser(bytes.length, 10);
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    long before = threads.getCurrentThreadAllocatedBytes();
    ApiException e = assertThrows(ApiException.class, () -> roomy.parse("application/json", bytes));
    long allocated = threads.getCurrentThreadAllocatedBytes() - before;
    assertEquals("unknown_field", e.code());
    assertTrue(e.getMessage().contains("'pad'"), e.getMessage());
    assertTrue(allocated < UploadBudget.costOf(bytes.length), allocated + " bytes allocated for a body of " + bytes.length);
  }

  /**
   * A field this version does not read, outside JSON "filters": a storefront's filter under another
   * spelling, or beside "filters" instead of in it, was dropped and the results came back unfiltered.
   */
  @Test
  void anUnknownFieldOutsideFiltersIsRefusedNotDropped() {
    String b64 = Base64.getEncoder().encodeToString(IMAGE);
    for (String member : new String[] {"\"brand\":\"acme\"", "\"maxPrice\":50", "\"limit\":5", "\"pad\":{}"}) {
      ApiException e = refused("application/json", "{\"image_base64\":\"" + b64 + "\"," + member + "}");
      assertEquals(400, e.status(), member);
      assertEquals("unknown_field", e.code(), member);
      assertTrue(e.getMessage().contains(member.substring(1, member.indexOf('"', 1))), e.getMessage());
    }
    for (String part : new String[] {"max-price", "maxPrice", "price", "limit", "image_base64"}) {
      ApiException e = assertThrows(ApiException.class, () -> parseMultipart(IMAGE, Map.of(part, "50")), part);
      assertEquals(400, e.status(), part);
      assertEquals("unknown_field", e.code(), part);
      assertTrue(e.getMessage().contains("'" + part + "'"), e.getMessage());
    }
    // What the storefront page sends (image, k, crop, category, max_price), and the JSON the demo
    // and cluster clients send (image_base64, k), still parse.
    assertEquals(12, parseMultipart(IMAGE, Map.of("k", "12", "crop", "0,0,4,4", "category", "Bags", "max_price", "50"))
        .k());
    assertEquals(7, parser.parse("application/json", ("{\"image_base64\":\"" + b64 + "\",\"k\":7}")
        .getBytes(StandardCharsets.UTF_8)).k());
  }

  @Test
  void knownJsonFieldsAreRefusedWhenNestedOrLarge() {
    assertEquals("invalid_crop", refused("application/json",
        "{\"image_base64\":\"AAAA\",\"crop\":{\"x\":{\"a\":1},\"y\":0,\"w\":1,\"h\":1}}").code());
    assertEquals("invalid_k", refused("application/json", "{\"image_base64\":\"AAAA\",\"k\":[3]}").code());
    StringBuilder many = new StringBuilder("{\"image_base64\":\"AAAA\",\"filters\":{");
    for (int i = 0; i < 17; i++) {
      many.append(i == 0 ? "" : ",").append("\"f").append(i).append("\":1");
    }
    assertEquals("invalid_filters", refused("application/json", many.append("}}").toString()).code());
    assertEquals(5, parser.parse("application/json", "{\"image_base64\":\"AAAA\",\"k\":5,\"crop\":{\"x\":0,\"y\":0,\"w\":1,\"h\":1},\"filters\":{\"brand\":\"Acme\"}}"
        .getBytes(StandardCharsets.UTF_8)).k());
  }

  @Test
  void aMultipartBodyWithoutItsClosingBoundaryIs400() {
    byte[] full = multipart(IMAGE, Map.of("k", "3"));
    byte[] cut = java.util.Arrays.copyOf(full, full.length - 20);
    ApiException e = assertThrows(ApiException.class,
        () -> parser.parse("multipart/form-data; boundary=" + BOUNDARY, cut));
    assertEquals(400, e.status());
  }
}
