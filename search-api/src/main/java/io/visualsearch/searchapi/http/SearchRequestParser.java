package io.visualsearch.searchapi.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.visualsearch.searchapi.ApiException;
import io.visualsearch.searchapi.image.CropBox;
import io.visualsearch.searchapi.search.Filters;
import io.visualsearch.searchapi.search.SearchQuery;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.regex.Pattern;
import org.eclipse.jetty.http.MultiPart;
import org.eclipse.jetty.http.MultiPartFormData;
import org.eclipse.jetty.io.Content;

/**
 * Reads the body of {@code POST /api/v1/search} — multipart ({@code image} part plus optional
 * {@code k}, {@code crop}, {@code category}, {@code min_price}, {@code max_price},
 * {@code availability}, {@code brand} fields) or JSON ({@code image_base64}, {@code k},
 * {@code crop}, {@code filters}) — into a {@link SearchQuery}. Every problem is a 4xx
 * {@link ApiException} naming the offending field; a field this version does not know is one
 * ({@code unknown_field}; {@code unknown_filter} inside JSON {@code filters}): a storefront's
 * {@code maxPrice=50} or top-level {@code "brand"} was dropped, and it got unfiltered results as if
 * they held.
 */
public final class SearchRequestParser {

  /** A price as digits with at most 18 decimals; exponents are refused, see {@link #price}. */
  private static final Pattern PLAIN_AMOUNT = Pattern.compile("\\d{1,13}(\\.\\d{0,18})?");

  private static final Set<String> MULTIPART_FIELDS = Set.of("image", "k", "crop", "category", "min_price",
      "max_price", "availability", "brand");
  private static final Set<String> JSON_FIELDS = Set.of("image_base64", "k", "crop", "filters");
  private static final Set<String> FILTER_FIELDS = Set.of("category", "min_price", "max_price", "availability", "brand");
  /** Members a JSON object field may have: crop has 4 (or its long names), filters 5. */
  private static final int MAX_OBJECT_MEMBERS = 16;
  private static final int MAX_FIELD_CHARS = Filters.MAX_TEXT_CHARS;

  private final ObjectMapper json = new ObjectMapper();
  private final long maxBodyBytes;
  private final int defaultK;

  public SearchRequestParser(long maxBodyBytes, int defaultK) {
    this.maxBodyBytes = maxBodyBytes;
    this.defaultK = defaultK;
  }

  public SearchQuery parse(String contentType, byte[] body) {
    if (contentType == null || contentType.isBlank()) {
      throw ApiException.unsupportedMedia("unsupported_content_type",
          "send multipart/form-data with an 'image' part, or application/json with 'image_base64'");
    }
    String type = contentType.toLowerCase(Locale.ROOT);
    if (type.startsWith("multipart/form-data")) {
      return multipart(contentType, body);
    }
    if (type.startsWith("application/json")) {
      return json(body);
    }
    throw ApiException.unsupportedMedia("unsupported_content_type", "content type '" + truncate(contentType)
        + "' is not accepted; use multipart/form-data or application/json");
  }

  private SearchQuery multipart(String contentType, byte[] body) {
    String boundary = MultiPart.extractBoundary(contentType);
    if (boundary == null || boundary.isEmpty()) {
      throw ApiException.badRequest("malformed_multipart", "the multipart content type has no boundary");
    }
    MultiPartFormData.Parser parser = new MultiPartFormData.Parser(boundary);
    parser.setMaxParts(MULTIPART_FIELDS.size() + 4);
    parser.setMaxLength(maxBodyBytes);
    parser.setMaxFileSize(maxBodyBytes);
    // The whole body is already in memory (and capped): never spill parts to temporary files.
    parser.setMaxMemoryFileSize(maxBodyBytes + 1);
    parser.setUseFilesForPartsWithoutFileName(false);
    MultiPartFormData.Parts parts;
    try {
      parts = parser.parse(Content.Source.from(ByteBuffer.wrap(body))).get();
    } catch (ExecutionException e) {
      throw ApiException.badRequest("malformed_multipart", "the multipart body cannot be parsed");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApiException.unavailable("interrupted", "the server is stopping", 1, e);
    }
    try (parts) {
      for (MultiPart.Part part : parts) {
        if (part.getName() == null || !MULTIPART_FIELDS.contains(part.getName())) {
          throw unknownField(part.getName() == null ? "(a part without a name)" : part.getName(), MULTIPART_FIELDS);
        }
      }
      MultiPart.Part image = parts.getFirst("image");
      if (image == null) {
        throw ApiException.badRequest("missing_image", "the multipart body has no 'image' part");
      }
      byte[] imageBytes;
      try {
        ByteBuffer buf = Content.Source.asByteBuffer(image.createContentSource());
        imageBytes = new byte[buf.remaining()];
        buf.get(imageBytes);
      } catch (java.io.IOException e) {
        throw ApiException.badRequest("malformed_multipart", "the 'image' part cannot be read");
      }
      int k = parseK(field(parts, "k"));
      String crop = field(parts, "crop");
      Filters filters = filters(field(parts, "category"), price(field(parts, "min_price"), "min_price"),
          price(field(parts, "max_price"), "max_price"), field(parts, "availability"), field(parts, "brand"));
      return new SearchQuery(imageBytes, k, crop == null ? null : crop(crop), filters);
    }
  }

  private static String field(MultiPartFormData.Parts parts, String name) {
    MultiPart.Part p = parts.getFirst(name);
    if (p == null) {
      return null;
    }
    if (p.getLength() > MAX_FIELD_CHARS * 4L) {
      throw ApiException.badRequest("invalid_" + name, "field '" + name + "' is too long");
    }
    String v = p.getContentAsString(StandardCharsets.UTF_8);
    return v == null || v.isBlank() ? null : v.strip();
  }

  /**
   * The JSON body, read as a stream: every known field but {@code image_base64} becomes a small tree
   * node (an unknown one is refused by its name, before its value is read), and
   * the image is decoded straight from the body's bytes once the whole body proved valid JSON. A
   * tree held the base64 as a String (and Jackson's text buffer twice its size while building it),
   * then a substring, a {@code replaceAll} copy and the decoded bytes: about five times the body at
   * its peak, where this holds the body and the decoded image.
   */
  private SearchQuery json(byte[] body) {
    ObjectNode root = json.createObjectNode();
    int imageQuote = -1;
    String imageText = null;
    try (JsonParser p = json.createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw ApiException.badRequest("malformed_json", "the body must be a JSON object");
      }
      boolean bom = body.length >= 3 && (body[0] & 0xff) == 0xef && (body[1] & 0xff) == 0xbb
          && (body[2] & 0xff) == 0xbf;
      String name;
      while ((name = p.nextFieldName()) != null) {
        JsonToken value = p.nextToken();
        if (name.equals("image_base64") && value == JsonToken.VALUE_STRING) {
          // The parser has not read the string yet; its start is the opening quote, and moving on
          // skips (and checks) it without building a String. Offsets are of bytes only for a UTF-8
          // body without a byte-order mark: anything else is read as text.
          root.remove(name);
          long at = p.currentTokenLocation().getByteOffset();
          if (!bom && at >= 0 && at < body.length && body[(int) at] == '"') {
            imageQuote = (int) at;
            imageText = null;
          } else {
            imageQuote = -1;
            imageText = p.getText();
          }
        } else if (JSON_FIELDS.contains(name)) {
          if (name.equals("image_base64")) {
            imageQuote = -1;
            imageText = null;
          }
          root.set(name, smallValue(p, name));
        } else {
          // Refused before its value is read: never built, as a tree of a few-byte node per `{}`
          // costs dozens of times the body, more than the upload budget reserves for it.
          if (FILTER_FIELDS.contains(name)) {
            throw ApiException.badRequest("unknown_field", "'" + name + "' is a filter: send it inside \"filters\"");
          }
          throw unknownField(name, JSON_FIELDS);
        }
      }
      if (p.currentToken() != JsonToken.END_OBJECT) {
        throw ApiException.badRequest("malformed_json", "the body is not valid JSON");
      }
    } catch (JsonProcessingException e) {
      throw ApiException.badRequest("malformed_json", "the body is not valid JSON");
    } catch (java.io.IOException e) {
      throw ApiException.badRequest("malformed_json", "the body cannot be read as JSON");
    }
    boolean empty = imageQuote >= 0 ? body[imageQuote + 1] == '"' : imageText == null || imageText.isEmpty();
    if (empty) {
      throw ApiException.badRequest("missing_image", "'image_base64' must be a base64 string");
    }
    byte[] image;
    try {
      image = Base64Text.decode(imageQuote >= 0 ? Base64Text.ofJsonString(body, imageQuote) : Base64Text.of(imageText));
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("invalid_image_base64", "'image_base64' is not valid base64");
    }
    JsonNode kNode = root.get("k");
    int k;
    if (kNode == null || kNode.isNull()) {
      k = defaultK;
    } else if (!kNode.isIntegralNumber() || !kNode.canConvertToInt()) {
      throw ApiException.badRequest("invalid_k", "k must be a whole number between " + SearchQuery.MIN_K + " and "
          + SearchQuery.MAX_K);
    } else {
      k = SearchQuery.checkedK(kNode.asInt());
    }
    CropBox crop = null;
    JsonNode c = root.get("crop");
    if (c != null && !c.isNull()) {
      if (c.isTextual()) {
        crop = crop(c.asText());
      } else if (c.isObject()) {
        crop = new CropBox(intField(c, "x"), intField(c, "y"), intField(c, "w", "width"), intField(c, "h", "height"));
      } else {
        throw ApiException.badRequest("invalid_crop", "crop must be {\"x\",\"y\",\"w\",\"h\"} or \"x,y,w,h\"");
      }
    }
    Filters filters = Filters.NONE;
    JsonNode f = root.get("filters");
    if (f != null && !f.isNull()) {
      if (!f.isObject()) {
        throw ApiException.badRequest("invalid_filters", "filters must be a JSON object");
      }
      // Refused, not skipped: a filter this version does not know (a newer client's, or the
      // archive's min_price_micros) was dropped, and the shopper got unfiltered results as if it held.
      for (var names = f.fieldNames(); names.hasNext(); ) {
        String name = names.next();
        if (!FILTER_FIELDS.contains(name)) {
          throw ApiException.badRequest("unknown_filter", "no filter '" + abbreviated(name) + "'; filters are "
              + String.join(", ", new java.util.TreeSet<>(FILTER_FIELDS)));
        }
      }
      filters = filters(text(f, "category"), price(text(f, "min_price"), "min_price"),
          price(text(f, "max_price"), "max_price"), text(f, "availability"), text(f, "brand"));
    }
    return new SearchQuery(image, k, crop, filters);
  }

  /**
   * The value at the parser, which must be a plain value or an object of at most
   * {@link #MAX_OBJECT_MEMBERS} plain values: none of the request's fields is larger, so a nested
   * or long one is refused before it is built.
   */
  private JsonNode smallValue(JsonParser p, String name) throws java.io.IOException {
    JsonToken t = p.currentToken();
    if (t.isScalarValue()) {
      return json.readTree(p);
    }
    ApiException tooBig = ApiException.badRequest("invalid_" + name, "'" + name
        + "' must be a plain value or an object of at most " + MAX_OBJECT_MEMBERS + " plain values");
    if (t != JsonToken.START_OBJECT) {
      throw tooBig;
    }
    ObjectNode obj = json.createObjectNode();
    String member;
    while ((member = p.nextFieldName()) != null) {
      if (!p.nextToken().isScalarValue() || obj.size() >= MAX_OBJECT_MEMBERS) {
        throw tooBig;
      }
      obj.set(member, json.readTree(p));
    }
    return obj;
  }

  /**
   * A field outside {@code filters} this version does not know: refused, as an unknown filter is,
   * since a filter sent there (multipart {@code max-price}, JSON top-level {@code "brand"}) was
   * dropped and its results came back unfiltered.
   */
  static ApiException unknownField(String name, Set<String> known) {
    return ApiException.badRequest("unknown_field", "no field '" + abbreviated(name) + "' here; fields are "
        + String.join(", ", new java.util.TreeSet<>(known)));
  }

  private static String abbreviated(String s) {
    return s.length() <= 64 ? s : s.substring(0, 64) + "...";
  }

  private static String text(JsonNode obj, String name) {
    JsonNode n = obj.get(name);
    if (n == null || n.isNull()) {
      return null;
    }
    if (!n.isValueNode() || n.isBoolean()) {
      throw ApiException.badRequest("invalid_" + name, "filter '" + name + "' must be a string or number");
    }
    String s = n.asText();
    if (s.length() > MAX_FIELD_CHARS) {
      throw ApiException.badRequest("invalid_" + name, "filter '" + name + "' is too long");
    }
    return s;
  }

  private static int intField(JsonNode obj, String... names) {
    for (String name : names) {
      JsonNode n = obj.get(name);
      if (n != null) {
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
          throw ApiException.badRequest("invalid_crop", "crop." + name + " must be a whole number");
        }
        return n.asInt();
      }
    }
    throw ApiException.badRequest("invalid_crop", "crop needs x, y, w and h");
  }

  int parseK(String raw) {
    if (raw == null) {
      return defaultK;
    }
    int k;
    try {
      k = Integer.parseInt(raw.strip());
    } catch (NumberFormatException e) {
      throw ApiException.badRequest("invalid_k", "k must be a whole number between " + SearchQuery.MIN_K + " and "
          + SearchQuery.MAX_K);
    }
    return SearchQuery.checkedK(k);
  }


  private static CropBox crop(String raw) {
    try {
      CropBox box = CropBox.parse(raw);
      if (box.width() <= 0 || box.height() <= 0 || box.x() < 0 || box.y() < 0) {
        throw ApiException.badRequest("invalid_crop", "crop needs x,y >= 0 and w,h > 0");
      }
      return box;
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("invalid_crop", e.getMessage());
    }
  }

  /**
   * Prices are decimal amounts of the currency unit ("19.99"); filters hold micros. Only plain
   * digits are parsed: BigDecimal takes "1e-999999999" as well, and rounding it allocated ~2 GB,
   * enough for a 60-byte request to end the process with OutOfMemoryError.
   */
  static Long price(String raw, String field) {
    if (raw == null || raw.isBlank()) {
      return null;
    }
    if (!PLAIN_AMOUNT.matcher(raw.strip()).matches()) {
      throw ApiException.badRequest("invalid_" + field, field + " must be a decimal amount such as 19.99");
    }
    try {
      BigDecimal amount = new BigDecimal(raw.strip());
      if (amount.signum() < 0 || amount.compareTo(BigDecimal.valueOf(1_000_000_000_000L)) > 0) {
        throw ApiException.badRequest("invalid_" + field, field + " must be between 0 and 10^12");
      }
      return amount.movePointRight(6).setScale(0, java.math.RoundingMode.HALF_UP).longValueExact();
    } catch (NumberFormatException | ArithmeticException e) {
      throw ApiException.badRequest("invalid_" + field, field + " must be a decimal amount such as 19.99");
    }
  }

  /**
   * The filters of a request that names its fields as the multipart form does ({@code category},
   * {@code min_price}, ...), such as similar items' query string; {@code field} gives null for one
   * not sent.
   */
  static Filters filters(java.util.function.Function<String, String> field) {
    return filters(field.apply("category"), price(field.apply("min_price"), "min_price"),
        price(field.apply("max_price"), "max_price"), field.apply("availability"), field.apply("brand"));
  }

  private static Filters filters(String category, Long min, Long max, String availability, String brand) {
    try {
      return new Filters(category, min, max, availability, brand);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("invalid_filters", e.getMessage());
    }
  }

  private static String truncate(String s) {
    String clean = s.replaceAll("[^\\x20-\\x7e]", "?");
    return clean.length() <= 80 ? clean : clean.substring(0, 80) + "...";
  }
}
