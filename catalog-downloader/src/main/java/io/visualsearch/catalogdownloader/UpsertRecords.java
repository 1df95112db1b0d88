package io.visualsearch.catalogdownloader;

import io.visualsearch.catalogfeed.Product;
import io.visualsearch.catalogfeed.ProductCheck;
import io.visualsearch.catalogfeed.ProductHasher;
import io.visualsearch.proto.events.Money;
import io.visualsearch.proto.events.ProductUpsert;
import io.visualsearch.topics.Topics;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;

/**
 * The {@code catalog.products} upserts of one sync. Built in one place for both the size check in
 * the diff's first pass and the send in its second, so what was checked is what is sent.
 */
final class UpsertRecords {

  private final String tenant;
  private final String source;
  private final long feedVersion;
  private final ProductHasher hasher = new ProductHasher();

  UpsertRecords(String tenant, String source, long feedVersion) {
    this.tenant = tenant;
    this.source = source;
    this.feedVersion = feedVersion;
  }

  byte[] key(Product p) {
    return Topics.key(tenant, p.id()).getBytes(StandardCharsets.UTF_8);
  }

  ProductUpsert value(Product p) {
    return ProductUpsert.newBuilder()
        .setTenant(tenant)
        .setProduct(toProto(p))
        .setContentHash(Long.toHexString(hasher.hash(p)))
        .setFeedVersion(feedVersion)
        .setSource(source)
        .build();
  }

  /** Refuses, as a row error, a product whose record the producer would refuse. */
  ProductCheck sizeCheck(RecordSizeLimit limit) {
    return p -> {
      long bytes = (long) key(p).length + value(p).getSerializedSize();
      return limit.fits(bytes) ? null : "product " + p.id() + " would be a " + bytes + "-byte Kafka record, above the "
          + limit.maxRecordBytes() + " bytes one record may carry; shorten its description or other long attributes";
    };
  }

  static io.visualsearch.proto.events.Product toProto(Product p) {
    io.visualsearch.proto.events.Product.Builder b = io.visualsearch.proto.events.Product.newBuilder()
        .setId(p.id())
        .setTitle(p.title())
        .setDescription(p.description())
        .setLink(p.link())
        .setImageLink(p.imageLink())
        .addAllAdditionalImageLinks(p.additionalImageLinks())
        .setPrice(money(p.price()))
        .setAvailability(p.availability().feedValue())
        .setBrand(p.brand())
        .setGoogleProductCategory(p.googleProductCategory())
        .setProductType(p.productType())
        .setGtin(p.gtin())
        .setCondition(p.condition());
    if (p.salePrice() != null) {
      b.setSalePrice(money(p.salePrice()))
          .setSalePriceStartMs(p.saleWindow().startMs())
          .setSalePriceEndMs(p.saleWindow().endMs());
    }
    return b.build();
  }

  private static Money money(io.visualsearch.catalogfeed.Money m) {
    return Money.newBuilder()
        .setAmountMicros(m.amount().multiply(BigDecimal.valueOf(1_000_000)).longValueExact())
        .setCurrency(m.currency().getCurrencyCode())
        .build();
  }
}
