package io.visualsearch.searchapi.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.faiss.Metric;
import io.visualsearch.indexformat.IndexManifest;
import io.visualsearch.proto.events.SearchResponseEvent;
import io.visualsearch.searchapi.embed.QueryEmbedder;
import io.visualsearch.searchapi.fresh.CatalogView;
import io.visualsearch.searchapi.fresh.TenantDeltas;
import io.visualsearch.searchapi.image.QueryImageDecoder;
import io.visualsearch.searchapi.index.LoadedIndex;
import io.visualsearch.searchapi.index.TenantIndexes;
import io.visualsearch.searchapi.index.VectorSpace;
import io.visualsearch.tracing.Tracing;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * The id a search's answer is archived under is the one the transports answer: it was drawn at
 * publication and appeared nowhere else, so no client could find responses/<tenant>/<id>.json.
 */
class ArchivedRequestIdTest {

  @Test
  void theAnsweredRequestIdIsTheOnePublished() throws Exception {
    TenantIndexes indexes = new TenantIndexes(i -> { });
    IndexManifest m = new IndexManifest(IndexManifest.FORMAT, "acme", "v1", 0, "default", 1, "serving_default", 2,
        "cosine", "IDMap,Flat", 0, List.of(), null, Map.of(), null, null, null);
    indexes.install(new LoadedIndex(m, List.of(), Map.of(), VectorSpace.of(Metric.INNER_PRODUCT, "cosine")));
    CatalogView catalog = new CatalogView();
    QueryEmbedder embedder = (image, version, signature, variant) ->
        new QueryEmbedder.QueryVector(new float[] {1, 0}, "default", 1, signature, variant);
    MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null, new ByteArraySerializer(),
        new ByteArraySerializer());
    try (Tracing tracing = Tracing.withExporter("search-api", SpanExporter.composite())) {
      ResponsePublisher publisher = new ResponsePublisher(() -> producer, tracing, new PrometheusRegistry());
      QueryService service = new QueryService(indexes, new TenantDeltas(), catalog,
          new QueryImageDecoder(1_000_000, 512), embedder, new IndexSearcher(catalog, tracing.tracer(), 1000, 20_000),
          publisher, null, tracing.tracer());
      ByteArrayOutputStream png = new ByteArrayOutputStream();
      ImageIO.write(new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB), "png", png);
      Answered answered = service.search("acme", new SearchQuery(png.toByteArray(), 5, null, Filters.NONE));
      assertNotNull(answered.requestId());
      answered.afterSent().run();
      assertEquals(1, producer.history().size());
      ProducerRecord<byte[], byte[]> record = producer.history().get(0);
      assertEquals(answered.requestId(), SearchResponseEvent.parseFrom(record.value()).getRequestId());
      assertEquals("acme/" + answered.requestId(), new String(record.key(), StandardCharsets.UTF_8));
    }
  }
}
