package io.visualsearch.imageindexer;

import java.nio.charset.StandardCharsets;
import java.util.List;

/** One small catalog written in each feed format a retailer may send. */
final class CatalogFeeds {

  /** A feed row: the product attributes the formats share. */
  record Row(String id, String title, String imageLink, String price) {}

  enum Format { MERCHANT_TSV, MERCHANT_RSS, CSV, JSON_LINES }

  private CatalogFeeds() {}

  static byte[] write(Format format, List<Row> rows) {
    StringBuilder sb = new StringBuilder();
    switch (format) {
      case MERCHANT_TSV -> {
        sb.append("id\ttitle\tlink\timage_link\tprice\tavailability\n");
        rows.forEach(r -> sb.append(r.id()).append('\t').append(r.title()).append("\thttps://shop.example/")
            .append(r.id()).append('\t').append(r.imageLink()).append('\t').append(r.price()).append("\tin_stock\n"));
      }
      case MERCHANT_RSS -> {
        sb.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" "
            + "xmlns:g=\"http://base.google.com/ns/1.0\"><channel><title>feed</title>\n");
        rows.forEach(r -> sb.append("<item><g:id>").append(r.id()).append("</g:id><title>").append(r.title())
            .append("</title><g:image_link>").append(r.imageLink()).append("</g:image_link><g:price>")
            .append(r.price()).append("</g:price></item>\n"));
        sb.append("</channel></rss>\n");
      }
      case CSV -> {
        sb.append("id,title,image_link,price\n");
        rows.forEach(r -> sb.append(r.id()).append(",\"").append(r.title()).append("\",").append(r.imageLink())
            .append(',').append(r.price()).append('\n'));
      }
      case JSON_LINES -> rows.forEach(r -> sb.append("{\"id\":\"").append(r.id()).append("\",\"title\":\"")
          .append(r.title()).append("\",\"image_link\":\"").append(r.imageLink()).append("\",\"price\":\"")
          .append(r.price()).append("\"}\n"));
      default -> throw new IllegalArgumentException(format.name());
    }
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }
}
