package io.visualsearch.imageindexer;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.visualsearch.imagefetch.CacheValidators;
import io.visualsearch.imagefetch.FailureCode;
import io.visualsearch.imagefetch.FetchResult;
import io.visualsearch.imagefetch.ImageFetcher;
import io.visualsearch.imagevalidation.ImageValidator;
import io.visualsearch.imagevalidation.NormalisedImage;
import io.visualsearch.imagevalidation.ValidationPolicy;
import io.visualsearch.imagevalidation.ValidationResult;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.pipeline.PoisonRecordException;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

/**
 * Fetch → validate → store for one product image, each step in its own child span of the
 * record's span. Permanent problems throw {@link PoisonRecordException}; a failing image host is
 * returned, not thrown, because whether to wait for it is the caller's budget to decide.
 */
final class ImageSource {

  private final ImageFetcher fetcher;
  private final ImageValidator validator;
  private final Normalisation normalisation;
  private final ObjectStore store;
  private final Tracer tracer;
  private final IndexerMetrics metrics;
  private final OutboundNetwork network;

  private final Duration refreshAfter;
  private final Clock clock;

  /**
   * {@code policy} makes the validator and is what new states record as their {@link
   * Normalisation}; a stored image a product takes up is written again when it was last written
   * over half of {@code sweepGrace} ago ({@link ImageSweeper}).
   */
  ImageSource(ImageFetcher fetcher, ValidationPolicy policy, ObjectStore store, Tracer tracer,
      IndexerMetrics metrics, OutboundNetwork network, Duration sweepGrace, Clock clock) {
    this.refreshAfter = sweepGrace.dividedBy(2);
    this.clock = clock;
    this.fetcher = fetcher;
    this.validator = new ImageValidator(policy);
    this.normalisation = Normalisation.of(policy);
    this.store = store;
    this.tracer = tracer;
    this.metrics = metrics;
    this.network = network;
  }

  /** How the images this source stores now are normalised. */
  Normalisation normalisation() {
    return normalisation;
  }

  Acquired acquire(ProductRef product, String imageLink, Refresh refresh, Optional<ImageState> previous)
      throws PoisonRecordException {
    if (refresh == Refresh.REUSE) {
      metrics.reused();
      Span.current().setAttribute("image.refresh", "reuse");
      return new Acquired.Ready(previous.orElseThrow(), false);
    }
    URI uri = parse(imageLink);
    CacheValidators validators = refresh == Refresh.CONDITIONAL ? previous.orElseThrow().validators()
        : CacheValidators.NONE;
    FetchResult result = fetch(product, uri, refresh, validators);
    if (result instanceof FetchResult.NotModified) {
      metrics.notModified();
      return new Acquired.Ready(previous.orElseThrow(), true);
    }
    if (result instanceof FetchResult.Failed failed) {
      // A slow answer, or none, is not the fetcher's to repeat at once (that would multiply the
      // slowest hosts' cost), but it is not the link's fault either: rounds of the loop ask again.
      if (failed.retriable() || failed.code() == FailureCode.TIMEOUT || failed.code() == FailureCode.NO_RESPONSE) {
        return new Acquired.HostFailing(failed);
      }
      throw Rejections.fetchFailed(imageLink, failed);
    }
    FetchResult.Fetched fetched = (FetchResult.Fetched) result;
    metrics.downloaded();
    if (refresh == Refresh.RENORMALISE) {
      metrics.renormalised();
    }
    NormalisedImage image = validate(product, imageLink, fetched.body());
    store(product, image);
    return new Acquired.Ready(new ImageState(imageLink, fetched.etag(), fetched.lastModified(), image.sha256(),
        image.width(), image.height(), normalisation), true);
  }

  private static URI parse(String imageLink) throws PoisonRecordException {
    try {
      return new URI(imageLink);
    } catch (URISyntaxException e) {
      throw new PoisonRecordException("image-fetch-bad-url",
          "image_link " + Rejections.shown(imageLink) + " is not a valid URL: " + e.getReason(), e);
    }
  }

  private FetchResult fetch(ProductRef product, URI uri, Refresh refresh, CacheValidators validators) {
    Span span = child("image fetch", product, SpanKind.CLIENT)
        .setAttribute("url.full", Rejections.shown(uri.toString()))
        .setAttribute("image.refresh", refresh.name().toLowerCase(java.util.Locale.ROOT));
    try (Scope ignored = span.makeCurrent()) {
      FetchResult result = fetcher.fetch(uri, validators);
      observe(product.tenant(), uri, result);
      if (result instanceof FetchResult.Fetched f) {
        span.setAttribute("http.response.status_code", 200L);
        span.setAttribute("bytes", (long) f.body().length);
        span.setAttribute("fetch.outcome", "downloaded");
      } else if (result instanceof FetchResult.NotModified) {
        span.setAttribute("http.response.status_code", 304L);
        span.setAttribute("fetch.outcome", "not-modified");
      } else if (result instanceof FetchResult.Failed failed) {
        if (failed.httpStatus() > 0) {
          span.setAttribute("http.response.status_code", (long) failed.httpStatus());
        }
        span.setAttribute("fetch.outcome", "failed");
        span.setAttribute("error.type", failed.code().name());
        span.setAttribute("fetch.retriable", failed.retriable());
        span.setStatus(StatusCode.ERROR, failed.message());
      }
      return result;
    } finally {
      span.end();
    }
  }

  /** What the result says about our own way out: see {@link OutboundNetwork}. */
  private void observe(String tenant, URI uri, FetchResult result) {
    if (result instanceof FetchResult.Failed failed && failed.httpStatus() == 0 && failed.redirectedTo() == null) {
      if (failed.code() == FailureCode.DNS_FAILURE || failed.code() == FailureCode.CONNECT_FAILED
          || failed.code() == FailureCode.NO_RESPONSE) {
        network.unreachable(tenant, ProductImageHandler.hostOf(uri.toString()));
      }
    } else {
      // Any answer, a redirect's included (whatever its target did next): the way out works.
      network.answered();
    }
  }

  private NormalisedImage validate(ProductRef product, String imageLink, byte[] body) throws PoisonRecordException {
    Span span = child("image validate", product, SpanKind.INTERNAL).setAttribute("bytes", (long) body.length);
    try (Scope ignored = span.makeCurrent()) {
      ValidationResult result = validator.validate(body);
      if (result instanceof ValidationResult.Rejected rejected) {
        PoisonRecordException e = Rejections.rejected(imageLink, rejected);
        span.setAttribute("image.rejected", rejected.reason().name());
        span.recordException(e);
        span.setStatus(StatusCode.ERROR, rejected.message());
        throw e;
      }
      NormalisedImage image = ((ValidationResult.Accepted) result).image();
      span.setAttribute("sha256", image.sha256());
      span.setAttribute("image.source_format", image.sourceFormat());
      span.setAttribute("image.source_size", image.sourceWidth() + "x" + image.sourceHeight());
      span.setAttribute("image.size", image.width() + "x" + image.height());
      return image;
    } finally {
      span.end();
    }
  }

  private void store(ProductRef product, NormalisedImage image) {
    Span span = child("image store", product, SpanKind.CLIENT)
        .setAttribute("sha256", image.sha256())
        .setAttribute("bytes", (long) image.png().length)
        .setAttribute("object.key", image.objectKey());
    try (Scope ignored = span.makeCurrent()) {
      // Content-addressed: an existing object already holds these exact bytes.
      boolean created = store.putIfAbsent(image.objectKey(), image.png(), NormalisedImage.CONTENT_TYPE);
      span.setAttribute("object.created", created);
      if (created) {
        metrics.stored();
      } else if (!store.lastModified(image.objectKey()).map(at -> at.isAfter(clock.instant().minus(refreshAfter)))
          .orElse(false)) {
        // Another product's, or one no product uses any more: a sweep that read the references
        // before this product's record deletes an image it finds old, so it is made young first.
        store.put(image.objectKey(), image.png(), NormalisedImage.CONTENT_TYPE);
        span.setAttribute("object.refreshed", true);
        metrics.refreshed();
      }
    } catch (RuntimeException e) {
      span.recordException(e);
      span.setStatus(StatusCode.ERROR, String.valueOf(e.getMessage()));
      throw e;
    } finally {
      span.end();
    }
  }

  private Span child(String name, ProductRef product, SpanKind kind) {
    return tracer.spanBuilder(name).setSpanKind(kind)
        .setAttribute("tenant", product.tenant())
        .setAttribute("sku", product.sku())
        .startSpan();
  }
}
