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
}
