package io.visualsearch.catalogdownloader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.catalogfeed.Availability;
import io.visualsearch.catalogfeed.Money;
import io.visualsearch.catalogfeed.Product;
import io.visualsearch.catalogfeed.ProductCheck;
import java.util.List;
import org.junit.jupiter.api.Test;

class UpsertRecordsTest {

  static Product product(String id, String description) {
    return new Product(id, "Tea " + id, description, "https://shop.example/" + id, "https://img.example/" + id + ".jpg",
        List.of(), Money.parse("4.50 USD"), null, Availability.IN_STOCK, "Acme", "", "", "", "new");
  }

  final UpsertRecords records = new UpsertRecords("acme", "https://acme.example/feed.xml", 1_700_000_000_000L);
  final RecordSizeLimit kafkaDefault = new RecordSizeLimit(RecordSizeLimit.KAFKA_DEFAULT_MAX_REQUEST_BYTES);

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
