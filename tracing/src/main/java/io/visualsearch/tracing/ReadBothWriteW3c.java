package io.visualsearch.tracing;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Writes only W3C {@code traceparent} (what our services speak) but accepts B3 from callers that
 * still send it, such as older storefront proxies. W3C wins when a carrier has both.
 */
final class ReadBothWriteW3c implements TextMapPropagator {

  private final TextMapPropagator w3c;
  private final TextMapPropagator b3;

  ReadBothWriteW3c(TextMapPropagator w3c, TextMapPropagator b3) {
    this.w3c = w3c;
    this.b3 = b3;
  }

  @Override
  public Collection<String> fields() {
    Set<String> fields = new LinkedHashSet<>(w3c.fields());
    fields.addAll(b3.fields());
    return fields;
  }

  @Override
  public <C> void inject(Context context, C carrier, TextMapSetter<C> setter) {
    w3c.inject(context, carrier, setter);
  }

  @Override
  public <C> Context extract(Context context, C carrier, TextMapGetter<C> getter) {
    Context fromW3c = w3c.extract(context, carrier, getter);
    if (Span.fromContext(fromW3c).getSpanContext().isValid()) {
      return fromW3c;
    }
    return b3.extract(context, carrier, getter);
  }
}
