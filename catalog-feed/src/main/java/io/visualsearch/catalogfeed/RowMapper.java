package io.visualsearch.catalogfeed;

import io.visualsearch.topics.Availability;
import io.visualsearch.topics.SkuSegment;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/** Turns a raw row into a normalised {@link Product}, or says why it cannot. */
final class RowMapper {

  /** Merchant Center's own limit; ids also become Kafka keys and object names. */
  static final int MAX_ID_LENGTH = 50;

  private static final Pattern WHITESPACE = Pattern.compile("\\s+");

  /** Either a product or a reason, never both. */
  record Mapped(Product product, String id, String error) {}

  Mapped map(Map<String, List<String>> attributes) {
    String id = text(attributes, AttributeNames.ID);
    if (id.isEmpty()) {
      return failure("", "missing required attribute 'id'");
    }
    if (id.length() > MAX_ID_LENGTH) {
      return failure(id.substring(0, MAX_ID_LENGTH), "id is longer than " + MAX_ID_LENGTH + " characters");
    }
    if (id.chars().anyMatch(Character::isISOControl)) {
      // C1 too (U+0080-U+009F, mis-decoded Windows-1252): the index-builder refuses such a key
      // (EmbeddingDecoder), so accepted here the product would be searchable only until the next build.
      return failure("", "id contains control characters");
    }
    if (!StandardCharsets.UTF_8.newEncoder().canEncode(id)) {
      // A lone surrogate becomes '?' in UTF-8: two such ids would share one Kafka key.
      return failure("", "id contains an unpaired UTF-16 surrogate");
    }
    String segmentProblem = SkuSegment.problem(id);
    if (segmentProblem != null) {
      // 50 characters can still be 450 bytes URL-encoded: accepted here, the image-indexer
      // dead-lettered the product, unsearchable until the retailer changed its id.
      return failure(id, "id " + segmentProblem);
    }
    String title = text(attributes, AttributeNames.TITLE);
    if (title.isEmpty()) {
      return failure(id, "missing required attribute 'title'");
    }
    String imageLink = text(attributes, AttributeNames.IMAGE_LINK);
    if (imageLink.isEmpty()) {
      return failure(id, "missing required attribute 'image_link'");
    }
    String imageProblem = httpUrlProblem(imageLink);
    if (imageProblem != null) {
      return failure(id, "image_link " + imageProblem);
    }
    String priceText = text(attributes, AttributeNames.PRICE);
    if (priceText.isEmpty()) {
      return failure(id, "missing required attribute 'price'");
    }
    Money price;
    Money salePrice = null;
    SaleWindow saleWindow = SaleWindow.ALWAYS;
    Availability availability = Availability.IN_STOCK;
    try {
      price = Money.parse(priceText);
      String sale = text(attributes, AttributeNames.SALE_PRICE);
      if (!sale.isEmpty()) {
        salePrice = Money.parse(sale);
        // Without it a sale loaded a week ahead showed, and filtered by, a price the shop did not charge.
        String effective = text(attributes, AttributeNames.SALE_PRICE_EFFECTIVE_DATE);
        if (!effective.isEmpty()) {
          saleWindow = SaleWindow.parse(effective);
        }
      }
      String avail = text(attributes, AttributeNames.AVAILABILITY);
      if (!avail.isEmpty()) {
        availability = Availability.parse(avail);
      }
    } catch (IllegalArgumentException e) {
      return failure(id, e.getMessage());
    }
    List<String> additional = new ArrayList<>();
    // One value a link: the delimited readers split their comma-separated cells already.
    for (String value : attributes.getOrDefault(AttributeNames.ADDITIONAL_IMAGE_LINK, List.of())) {
      String url = clean(value);
      if (!url.isEmpty() && httpUrlProblem(url) == null) {
        additional.add(url);
      }
    }
    String link = text(attributes, AttributeNames.LINK);
    if (!link.isEmpty() && httpUrlProblem(link) != null) {
      return failure(id, "link " + httpUrlProblem(link));
    }
    Product product = new Product(
        id,
        title,
        text(attributes, AttributeNames.DESCRIPTION),
        link,
        imageLink,
        additional,
        price,
        salePrice,
        availability,
        text(attributes, AttributeNames.BRAND),
        text(attributes, AttributeNames.GOOGLE_PRODUCT_CATEGORY),
        text(attributes, AttributeNames.PRODUCT_TYPE),
        text(attributes, AttributeNames.GTIN).replace(" ", "").replace("-", ""),
        text(attributes, AttributeNames.CONDITION).toLowerCase(Locale.ROOT),
        saleWindow);
    return new Mapped(product, id, null);
  }

  private static Mapped failure(String id, String reason) {
    return new Mapped(null, id, reason);
  }

  /** First non-blank value of the attribute, normalised. */
  static String text(Map<String, List<String>> attributes, String name) {
    for (String value : attributes.getOrDefault(name, List.of())) {
      String cleaned = clean(value);
      if (!cleaned.isEmpty()) {
        return cleaned;
      }
    }
    return "";
  }

  /** NFC, whitespace runs (incl. newlines) collapsed to one space, trimmed. */
  static String clean(String value) {
    if (value == null) {
      return "";
    }
    String nfc = Normalizer.normalize(value, Normalizer.Form.NFC);
    return WHITESPACE.matcher(nfc).replaceAll(" ").strip();
  }

  /** Null when the text is an absolute http(s) URL with a host, else what is wrong with it. */
  private static String httpUrlProblem(String text) {
    try {
      URI uri = new URI(text);
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (!scheme.equals("http") && !scheme.equals("https")) {
        return "'" + abbreviate(text) + "' is not an http(s) URL";
      }
      if (uri.getHost() == null) {
        return "'" + abbreviate(text) + "' has no host";
      }
      return null;
    } catch (URISyntaxException e) {
      return "'" + abbreviate(text) + "' is not a valid URL";
    }
  }

  private static String abbreviate(String text) {
    return text.length() <= 120 ? text : text.substring(0, 120) + "...";
  }
}
