package io.visualsearch.responseconsumer;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.pipeline.RetriableProcessingException;
import io.visualsearch.proto.events.SearchResponseEvent;
import io.visualsearch.topics.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class ResponseArchiverTest {

  @Test
  void anAnswerTheStoreRefusesIsRetriedNotDeadLettered() {
    byte[] answered = SearchResponseEvent.newBuilder().setRequestId("req-1").setTenant("shop").setK(1).build()
        .toByteArray();
    try (ObjectStore store = DeniedStore.started()) {
      RetriableProcessingException e = assertThrows(RetriableProcessingException.class, () -> new ResponseArchiver(store)
          .handle(new ConsumerRecord<>(Topics.SEARCH_RESPONSES.name(), 0, 0, "shop".getBytes(), answered), null));
      assertTrue(e.getMessage().contains("Access Denied"), e.getMessage());
    }
  }

  /** A search that found nothing was archived without "hits": readers of the archive failed on it. */
  @Test
  void anAnswerWithNothingFoundIsArchivedWithItsEmptyFields() throws Exception {
    com.fasterxml.jackson.databind.JsonNode doc = new com.fasterxml.jackson.databind.ObjectMapper().readTree(
        ResponseArchiver.json(io.visualsearch.proto.events.SearchResponseEvent.newBuilder().setRequestId("r-1")
            .setTenant("acme").setK(5).build()));
    assertTrue(doc.get("hits").isArray() && doc.get("hits").isEmpty(), doc.toString());
    assertTrue(doc.has("filters") && doc.has("index_version"), doc.toString());
  }
}
