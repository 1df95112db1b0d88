package io.visualsearch.responseconsumer;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.trace.TracerProvider;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.pipeline.RetriableProcessingException;
import io.visualsearch.proto.events.IndexPublished;
import io.visualsearch.topics.Topics;
import java.nio.file.Path;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How the job's failures reach the consumer loop; its runs against a published index are in ITSimilarItemsJob. */
class SimilarItemsJobTest {

  @TempDir
  Path scratch;

  @Test
  void aPublicationTheStoreRefusesToShowIsRetriedNotDeadLettered() {
    byte[] published = IndexPublished.newBuilder().setTenant("shop").setIndexVersion("20250103T000000Z-v1")
        .setModelVersion(1).build().toByteArray();
    try (ObjectStore store = DeniedStore.started()) {
      SimilarItemsJob job = new SimilarItemsJob(store, scratch, TracerProvider.noop().get("test"), 3, 8);
      RetriableProcessingException e = assertThrows(RetriableProcessingException.class, () -> job.handle(
          new ConsumerRecord<>(Topics.INDEX_PUBLISHED.name(), 0, 0, "shop".getBytes(), published),
          ITSimilarItemsJob.NOTHING_SENT));
      assertTrue(e.getMessage().contains("Access Denied"), e.getMessage());
    }
  }
}
