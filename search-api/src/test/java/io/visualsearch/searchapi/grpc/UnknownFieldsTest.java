package io.visualsearch.searchapi.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.pipeline.Activity;
import io.visualsearch.proto.search.CropBox;
import io.visualsearch.proto.search.Filters;
import io.visualsearch.proto.search.SearchReply;
import io.visualsearch.proto.search.SearchRequest;
import io.visualsearch.proto.search.SimilarRequest;
import io.visualsearch.searchapi.ApiException;
import io.visualsearch.searchapi.auth.ApiKeys;
import io.visualsearch.searchapi.auth.Authenticator;
import io.visualsearch.searchapi.http.SearchRequestParser;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * gRPC requests as HTTP bodies: a field this version does not know is refused wherever it is, not
 * dropped (a newer client's field was answered as if it held), and a price bound of 0 is a bound.
 */
class UnknownFieldsTest {

  static final UnknownFieldSet FIELD_99 = UnknownFieldSet.newBuilder()
      .addField(99, UnknownFieldSet.Field.newBuilder().addVarint(1).build()).build();

  final VisualSearchService service = new VisualSearchService(
      new Authenticator(ApiKeys.parse(List.of("acme:acme-key-0123456789abcdef"))), null, null, 10,
      new Activity(new PrometheusRegistry()));

  /** The status a call ends with; the service has no query path, so a request that passes fails INTERNAL. */
  Status call(java.util.function.Consumer<StreamObserver<SearchReply>> rpc) {
    AtomicReference<Throwable> error = new AtomicReference<>();
    StreamObserver<SearchReply> out = new StreamObserver<>() {
      @Override
      public void onNext(SearchReply value) { }

      @Override
      public void onError(Throwable t) {
        error.set(t);
      }

      @Override
      public void onCompleted() { }
    };
    Context.current().withValue(VisualSearchService.TENANT, "acme").run(() -> rpc.accept(out));
    return Status.fromThrowable(error.get());
  }

  @Test
  void anUnknownFieldAnywhereInARequestIsRefused() {
    ByteString image = ByteString.copyFromUtf8("x");
    for (SearchRequest r : new SearchRequest[] {
        SearchRequest.newBuilder().setImage(image).setUnknownFields(FIELD_99).build(),
        SearchRequest.newBuilder().setImage(image).setCrop(CropBox.newBuilder().setWidth(1).setHeight(1)
            .setUnknownFields(FIELD_99)).build()}) {
      Status s = call(out -> service.search(r, out));
      assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode(), s.toString());
      assertTrue(s.getDescription().startsWith("unknown_field") && s.getDescription().contains("[99]"), s.toString());
    }
    Status filter = call(out -> service.search(SearchRequest.newBuilder().setImage(image)
        .setFilters(Filters.newBuilder().setUnknownFields(FIELD_99)).build(), out));
    assertTrue(filter.getDescription().startsWith("unknown_filter"), filter.toString());
    Status similar = call(out -> service.similar(SimilarRequest.newBuilder().setSku("a").setUnknownFields(FIELD_99)
        .build(), out));
    assertEquals(Status.Code.INVALID_ARGUMENT, similar.getCode(), similar.toString());
    assertTrue(similar.getDescription().startsWith("unknown_field"), similar.toString());
    // Known fields only: past the check (into the absent query path).
    Status known = call(out -> service.similar(SimilarRequest.newBuilder().setSku("a").setK(3).build(), out));
    assertEquals(Status.Code.INTERNAL, known.getCode(), known.toString());
    VisualSearchService.knownFieldsOnly(SearchRequest.newBuilder().setImage(image).setK(3)
        .setCrop(CropBox.newBuilder().setWidth(1).setHeight(1)).setFilters(Filters.newBuilder().setBrand("b")).build());
  }

  /** A gRPC client could not ask "free only": 0 meant unbounded, where HTTP's max_price=0 is a bound. */
  @Test
  void aPriceBoundOfZeroIsABoundAsOverHttp() {
    var grpc = VisualSearchService.filters(Filters.newBuilder().setMaxPriceMicros(0).build());
    String boundary = "b";
    String body = "--b\r\nContent-Disposition: form-data; name=\"image\"; filename=\"p.jpg\"\r\n\r\nx\r\n"
        + "--b\r\nContent-Disposition: form-data; name=\"max_price\"\r\n\r\n0\r\n--b--\r\n";
    var http = new SearchRequestParser(1 << 20, 10).parse("multipart/form-data; boundary=" + boundary,
        body.getBytes(StandardCharsets.UTF_8)).filters();
    assertEquals(0L, grpc.maxPriceMicros());
    assertEquals(http, grpc);
    var min = VisualSearchService.filters(Filters.newBuilder().setMinPriceMicros(0).build());
    assertEquals(0L, min.minPriceMicros());
    var unset = VisualSearchService.filters(Filters.getDefaultInstance());
    assertNull(unset.minPriceMicros());
    assertNull(unset.maxPriceMicros());
    assertEquals("invalid_filters", assertThrows(ApiException.class, () -> VisualSearchService.filters(
        Filters.newBuilder().setMinPriceMicros(5).setMaxPriceMicros(0).build())).code());
  }
}
