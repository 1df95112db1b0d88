package io.visualsearch.catalogdownloader;

import io.visualsearch.topics.Availability;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.catalogfeed.Money;
import io.visualsearch.catalogfeed.Product;
import io.visualsearch.catalogfeed.ProductCheck;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.internal.AbstractRecords;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.junit.jupiter.api.Test;

class UpsertRecordsTest {

  static Product product(String id, String description) {
    return new Product(id, "Tea " + id, description, "https://shop.example/" + id, "https://img.example/" + id + ".jpg",
        List.of(), Money.parse("4.50 USD"), null, Availability.IN_STOCK, "Acme", "", "", "", "new");
  }

  final UpsertRecords records = new UpsertRecords("acme", "https://acme.example/feed.xml", 1_700_000_000_000L);
  final RecordSizeLimit kafkaDefault = new RecordSizeLimit(RecordSizeLimit.KAFKA_DEFAULT_MAX_REQUEST_BYTES);

  @Test
  void availabilityIsSentInTheFeedSpellingWhateverTheHostsLocale() {
    // Under Turkish rules "IN_STOCK" lower-cases to "\u0131n_stock", which search's filter never matches.
    Locale before = Locale.getDefault();
    Locale.setDefault(Locale.forLanguageTag("tr-TR"));
    try {
      assertEquals("in_stock", UpsertRecords.toProto(product("tea-1", "green")).getAvailability());
    } finally {
      Locale.setDefault(before);
    }
  }

  @Test
  void aSalePriceTravelsWithTheWindowItAppliesIn() {
    // search-api decides at each query whether the sale price is the price: the feed row does not
    // change when the sale starts, so nothing is sent then.
    Product p = product("tea-2", "black");
    Product onSale = new Product(p.id(), p.title(), p.description(), p.link(), p.imageLink(), List.of(), p.price(),
        Money.parse("2.00 USD"), p.availability(), p.brand(), "", "", "", "new",
        io.visualsearch.catalogfeed.SaleWindow.parse("2025-11-28T00:00Z/2025-12-01T00:00Z"));
    io.visualsearch.proto.events.Product sent = UpsertRecords.toProto(onSale);
    assertEquals(2_000_000L, sent.getSalePrice().getAmountMicros());
    assertEquals(java.time.Instant.parse("2025-11-28T00:00:00Z").toEpochMilli(), sent.getSalePriceStartMs());
    assertEquals(java.time.Instant.parse("2025-12-01T00:00:00Z").toEpochMilli(), sent.getSalePriceEndMs());
    io.visualsearch.proto.events.Product always = UpsertRecords.toProto(new Product(p.id(), p.title(),
        p.description(), p.link(), p.imageLink(), List.of(), p.price(), Money.parse("2.00 USD"), p.availability(),
        p.brand(), "", "", "", "new"));
    assertEquals(0, always.getSalePriceStartMs() + always.getSalePriceEndMs(), "no window: the sale always applies");
  }

  @Test
  void aProductWhoseRecordTheProducerWouldRefuseIsRefusedWithItsIdAndSize() {
    // 400,000 CJK characters: 1.2 MB as UTF-8, though "400k" counted in chars.
    Product big = product("tea-big", "\u7da0".repeat(400_000));
    String problem = records.sizeCheck(kafkaDefault).problem(big);
    int bytes = records.key(big).length + records.value(big).getSerializedSize();
    assertTrue(bytes > RecordSizeLimit.KAFKA_DEFAULT_MAX_REQUEST_BYTES, "the producer would refuse this record");
    assertEquals("product tea-big would be a " + bytes + "-byte Kafka record, above the "
        + kafkaDefault.maxRecordBytes() + " bytes one record may carry; shorten its description or other long"
        + " attributes", problem);
  }

  /**
   * The largest product the check lets through is one the producer takes: its record, with the
   * headers a sync sends (tenant, traceparent), is within max.request.size by Kafka's own estimate,
   * the one its producer checks before sending.
   */
  @Test
  void theLargestProductTheCheckPassesIsARecordTheProducerTakes() {
    ProductCheck check = records.sizeCheck(kafkaDefault);
    int low = 0;
    int high = RecordSizeLimit.KAFKA_DEFAULT_MAX_REQUEST_BYTES;
    while (low < high) {
      int mid = (low + high + 1) >>> 1;
      if (check.problem(product("tea", "x".repeat(mid))) == null) {
        low = mid;
      } else {
        high = mid - 1;
      }
    }
    Product largest = product("tea", "x".repeat(low));
    assertTrue(low > 1_000_000, "a product of nearly a mebibyte still passes: " + low);
    Header[] headers = {new RecordHeader("tenant", "acme".getBytes(StandardCharsets.UTF_8)),
        new RecordHeader("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            .getBytes(StandardCharsets.UTF_8))};
    for (CompressionType compression : List.of(CompressionType.NONE, CompressionType.LZ4)) {
      int estimate = AbstractRecords.estimateSizeInBytesUpperBound(RecordBatch.CURRENT_MAGIC_VALUE, compression,
          records.key(largest), records.value(largest).toByteArray(), headers);
      assertTrue(estimate <= RecordSizeLimit.KAFKA_DEFAULT_MAX_REQUEST_BYTES, compression + ": " + estimate);
    }
  }

  @Test
  void aProductThatFitsPassesAndTheLimitCountsKeyAndValue() {
    Product fits = product("tea", "green");
    ProductCheck check = records.sizeCheck(kafkaDefault);
    assertNull(check.problem(fits));
    int exact = records.key(fits).length + records.value(fits).getSerializedSize();
    assertNull(records.sizeCheck(new RecordSizeLimit(exact + RecordSizeLimit.HEADROOM_BYTES)).problem(fits));
    assertTrue(records.sizeCheck(new RecordSizeLimit(exact - 1 + RecordSizeLimit.HEADROOM_BYTES)).problem(fits) != null);
  }
}
