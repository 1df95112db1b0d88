package io.visualsearch.searchapi.grpc;

import com.google.protobuf.Descriptors;
import com.google.protobuf.Message;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.api.trace.Span;
import io.visualsearch.pipeline.Activity;
import io.visualsearch.proto.search.ProductResult;
import io.visualsearch.proto.search.SearchReply;
import io.visualsearch.proto.search.SearchRequest;
import io.visualsearch.proto.search.SimilarRequest;
import io.visualsearch.proto.search.VisualSearchGrpc;
import io.visualsearch.searchapi.ApiException;
import io.visualsearch.searchapi.FailureStreaks;
import io.visualsearch.searchapi.auth.Authenticator;
import io.visualsearch.searchapi.http.Admission;
import io.visualsearch.searchapi.image.CropBox;
import io.visualsearch.searchapi.search.Answered;
import io.visualsearch.searchapi.search.Filters;
import io.visualsearch.searchapi.search.QueryService;
import io.visualsearch.searchapi.search.SearchAnswer;
import io.visualsearch.searchapi.search.SearchHit;
import io.visualsearch.searchapi.search.SearchQuery;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The VisualSearch gRPC API: the same query path as HTTP, with the API key in the
 * {@code authorization} metadata entry and errors as gRPC statuses carrying the same codes and
 * messages as the HTTP API's JSON errors.
 */
public final class VisualSearchService extends VisualSearchGrpc.VisualSearchImplBase {

  private static final Logger log = LoggerFactory.getLogger(VisualSearchService.class);
  static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  /** The authenticated caller's tenant, in the context of every call past {@link #credentials}. */
  static final Context.Key<String> TENANT = Context.key("tenant");

  private final Authenticator auth;
  private final QueryService queries;
  private final Admission admission;
  private final int defaultK;
  private final Activity activity;
  private final FailureStreaks failures;

  /** {@code activity}: the health page's row, counted as for HTTP (answers; failures with a cause). */
  public VisualSearchService(Authenticator auth, QueryService queries, Admission admission, int defaultK,
      Activity activity) {
    this(auth, queries, admission, defaultK, activity, new FailureStreaks(log));
  }

  /** {@code failures}: the log of failures with a cause, shared with HTTP. */
  public VisualSearchService(Authenticator auth, QueryService queries, Admission admission, int defaultK,
      Activity activity, FailureStreaks failures) {
    this.failures = failures;
    this.auth = auth;
    this.queries = queries;
    this.admission = admission;
    this.defaultK = defaultK;
    this.activity = activity;
  }

  /**
   * Authenticates a call from its headers, before its message is asked for: a call without a valid
   * key is closed UNAUTHENTICATED at once, so an anonymous client cannot make the server receive and
   * parse a message of up to the inbound limit (~10 MiB) first. A valid one's authorization goes
   * into the call's context, where the handlers read it.
   */
  public ServerInterceptor credentials() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        String authorization = headers.get(AUTHORIZATION);
        String tenant;
        try {
          tenant = auth.tenant(authorization, null);
        } catch (ApiException e) {
          call.close(statusOf(e), new Metadata());
          return new ServerCall.Listener<>() { };
        }
        return Contexts.interceptCall(Context.current().withValue(TENANT, tenant), call, headers, next);
      }
    };
  }

  /** The caller's tenant, authenticated once, from the call's headers, by {@link #credentials}. */
  private static String callerTenant() {
    String tenant = TENANT.get();
    if (tenant == null) {
      // Bound without its credentials interceptor: no call is let through unauthenticated.
      throw ApiException.unauthorized("missing_api_key", "send 'authorization: Bearer <api key>'");
    }
    return tenant;
  }

  @Override
  public void search(SearchRequest request, StreamObserver<SearchReply> out) {
    answer("gRPC Search", out, () -> {
      String tenant = callerTenant();
      knownFieldsOnly(request);
      int k = SearchQuery.checkedK(request.getK() == 0 ? defaultK : request.getK());
      CropBox crop = null;
      if (request.hasCrop()) {
        var c = request.getCrop();
        crop = new CropBox(c.getX(), c.getY(), c.getWidth(), c.getHeight());
        if (crop.width() <= 0 || crop.height() <= 0 || crop.x() < 0 || crop.y() < 0) {
          throw ApiException.badRequest("invalid_crop", "crop needs x,y >= 0 and width,height > 0");
        }
      }
      Filters filters = filters(request.getFilters());
      try (Admission.Permit ignored = admission.enter(tenant, untilDeadline())) {
        stillWanted();
        return queries.search(tenant, new SearchQuery(request.getImage().toByteArray(), k, crop, filters));
      }
    });
  }

  @Override
  public void similar(SimilarRequest request, StreamObserver<SearchReply> out) {
    answer("gRPC Similar", out, () -> {
      String tenant = callerTenant();
      knownFieldsOnly(request);
      int k = SearchQuery.checkedK(request.getK() == 0 ? defaultK : request.getK());
      if (request.getSku().isEmpty() || request.getSku().length() > 256) {
        throw ApiException.badRequest("invalid_sku", "sku must be 1 to 256 characters");
      }
      Filters filters = filters(request.getFilters());
      QueryService.SimilarPlan plan = queries.planSimilar(tenant, request.getSku(), k, filters);
      if (!plan.live()) {
        return Answered.of(plan.file());
      }
      try (Admission.Permit ignored = admission.enter(tenant, untilDeadline())) {
        stillWanted();
        return Answered.of(queries.liveSimilar(tenant, request.getSku(), k, filters, plan));
      }
    });
  }

  /**
   * Refuses a request holding a field this version does not know, at any depth: a newer client's
   * field (a filter, or a k moved elsewhere) was dropped, and answered as if it held. As over
   * HTTP: {@code unknown_filter} inside {@code Filters}, {@code unknown_field} anywhere else.
   */
  static void knownFieldsOnly(Message message) {
    if (!message.getUnknownFields().asMap().isEmpty()) {
      String type = message.getDescriptorForType().getName();
      boolean filter = message instanceof io.visualsearch.proto.search.Filters;
      throw ApiException.badRequest(filter ? "unknown_filter" : "unknown_field", "the " + (filter ? "filters hold"
          : type + " holds") + " field(s) " + message.getUnknownFields().asMap().keySet() + " this version does not know");
    }
    for (var field : message.getAllFields().entrySet()) {
      if (field.getKey().getJavaType() != Descriptors.FieldDescriptor.JavaType.MESSAGE) {
        continue;
      }
      if (field.getKey().isRepeated()) {
        for (Object m : (java.util.List<?>) field.getValue()) {
          knownFieldsOnly((Message) m);
        }
      } else {
        knownFieldsOnly((Message) field.getValue());
      }
    }
  }

  /** The filters as HTTP reads them: a price bound is one when it is set, 0 ("free only") included. */
  static Filters filters(io.visualsearch.proto.search.Filters f) {
    try {
      return new Filters(f.getCategory(), f.hasMinPriceMicros() ? f.getMinPriceMicros() : null,
          f.hasMaxPriceMicros() ? f.getMaxPriceMicros() : null, f.getAvailability(), f.getBrand());
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("invalid_filters", e.getMessage());
    }
  }

  /**
   * How long the call may wait for a search slot: until its deadline (the queue's own limit
   * applies too). Past it nobody reads the answer, and under overload the queue was full of such
   * calls, each handed a slot in turn to decode a photo for no one.
   */
  private static java.time.Duration untilDeadline() {
    io.grpc.Deadline deadline = io.grpc.Context.current().getDeadline();
    return deadline == null ? java.time.Duration.ofDays(1)
        : java.time.Duration.ofMillis(Math.max(0, deadline.timeRemaining(java.util.concurrent.TimeUnit.MILLISECONDS)));
  }

  /** Gives the slot back at once when the caller cancelled or its deadline passed while it waited. */
  private static void stillWanted() {
    if (io.grpc.Context.current().isCancelled()) {
      throw new ApiException(499, "caller_gone", "the call was cancelled or its deadline passed while it waited"
          + " for a search slot; nothing was searched");
    }
  }

  private interface Call {
    Answered run();
  }

  /** {@code method}: the call's name in the log of a failure streak. */
  private void answer(String method, StreamObserver<SearchReply> out, Call call) {
    Answered answered;
    SearchReply reply;
    try {
      answered = call.run();
      reply = reply(answered.answer(), answered.requestId());
    } catch (ApiException e) {
      // As over HTTP: expected refusals (no index yet, overload, a bad request) are activity.
      if (e.isServiceFault()) {
        activity.recordError();
        failures.failed(method, e);
      } else {
        activity.recordActivity();
      }
      out.onError(statusOf(e).asRuntimeException(ErrorTrailers.of(e.retryAfterSeconds())));
      return;
    } catch (RuntimeException e) {
      activity.recordError();
      log.error("gRPC search failed", e);
      out.onError(Status.INTERNAL.withDescription("internal_error: the search failed unexpectedly")
          .asRuntimeException(ErrorTrailers.of(null)));
      return;
    }
    activity.recordActivity();
    failures.answered();
    out.onNext(reply);
    out.onCompleted();
    answered.afterSent().run();
  }

  /** Built inside the call's error handling: a failure here is answered INTERNAL, not gRPC's bare UNKNOWN. */
  private static SearchReply reply(SearchAnswer answer, String requestId) {
    SearchReply.Builder reply = SearchReply.newBuilder()
        .setRequestId(requestId == null ? "" : requestId)
        .setIndexVersion(answer.indexVersion())
        .setModelVersion(answer.modelVersion())
        .setTraceId(Span.current().getSpanContext().getTraceId());
    for (SearchHit h : answer.hits()) {
      reply.addResults(ProductResult.newBuilder().setSku(h.sku()).setScore(h.score()).setTitle(h.product().title())
          .setPrice(h.product().priceText()).setLink(h.product().link()).setImageLink(h.product().imageLink())
          .setCategory(h.product().category()).setPriceMicros(h.product().priceMicros())
          .setCurrency(h.product().currency().toUpperCase(java.util.Locale.ROOT))
          .setAvailability(h.product().shownAvailability()).setBrand(h.product().brand()));
    }
    return reply.build();
  }

  /** The HTTP status of an API error, as the closest gRPC status; the description is "code: message". */
  static Status statusOf(ApiException e) {
    Status s = switch (e.status()) {
      case 400, 413, 415, 422 -> Status.INVALID_ARGUMENT;
      case 401 -> Status.UNAUTHENTICATED;
      case 403 -> Status.PERMISSION_DENIED;
      case 404 -> Status.NOT_FOUND;
      case 499 -> Status.CANCELLED;
      case 503 -> e.code().equals("overloaded") ? Status.RESOURCE_EXHAUSTED : Status.UNAVAILABLE;
      default -> Status.INTERNAL;
    };
    return s.withDescription(e.code() + ": " + e.getMessage());
  }
}
