package io.visualsearch.indexbuilder;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BinaryOperator;

/**
 * Gives vectors whose records do not name their variant (written before {@code vector_variant}
 * existed) the variant they were, in all likelihood, computed with, for one build. An upgraded
 * generator does not re-embed a catalog whose model and configuration did not change, so without
 * this the first records naming a variant would read as a new model beside the old records, held
 * until they covered a catalog that is never re-embedded, then built from them alone.
 *
 * <p>A record without a variant joins, in its lane (model, version, signature): the variant of the
 * published index if that index names one, otherwise the only variant present in that lane, and only
 * when both have the same dimension. Otherwise (several variants, none published) it stays apart,
 * as a model of its own. The assumption, documented for operators: the upgrade that starts writing
 * variants does not also change {@code MODEL_OUTPUT}, {@code MODEL_IMAGE_SIZE} or
 * {@code MODEL_SEND_SMALL_IMAGES_AS_IS}.
 */
final class LegacyVariants {

  private final Map<ModelKey, ModelKey> resolved;

  private LegacyVariants(Map<ModelKey, ModelKey> resolved) {
    this.resolved = resolved;
  }

  /**
   * @param published the served index's model, or null
   * @param publishedDimension the served index's dimension (ignored without one)
   */
  static LegacyVariants of(TenantSnapshot snap, ModelKey published, int publishedDimension) {
    Map<ModelKey, Integer> dimensions = new HashMap<>(snap.dimensions());
    if (published != null) {
      dimensions.putIfAbsent(published, publishedDimension);
    }
    List<ModelKey> keys = new ArrayList<>(snap.productsPerModel().keySet());
    if (published != null && !keys.contains(published)) {
      keys.add(published);
    }
    Map<ModelKey, ModelKey> resolved = new HashMap<>();
    for (ModelKey legacy : keys) {
      if (!legacy.variantUnknown()) {
        continue;
      }
      ModelKey to;
      if (published != null && !published.variantUnknown() && published.sameLane(legacy)) {
        to = published;
      } else {
        List<ModelKey> named = keys.stream().filter(k -> !k.variantUnknown() && k.sameLane(legacy)).toList();
        to = named.size() == 1 ? named.get(0) : null;
      }
      if (to != null && sameDimension(dimensions.get(legacy), dimensions.get(to))) {
        resolved.put(legacy, to);
      }
    }
    return new LegacyVariants(resolved);
  }

  private static boolean sameDimension(Integer a, Integer b) {
    return a == null || b == null || a.equals(b);
  }

  /** The key a build counts {@code model} under; null stays null. */
  ModelKey resolve(ModelKey model) {
    return model == null ? null : resolved.getOrDefault(model, model);
  }

  /** {@code snap} with every resolved key merged into the one it joins. */
  TenantSnapshot apply(TenantSnapshot snap) {
    if (resolved.isEmpty()) {
      return snap;
    }
    List<ProductVector> products = snap.products().stream()
        .map(p -> resolved.containsKey(p.model()) ? p.withModel(resolve(p.model())) : p).toList();
    return new TenantSnapshot(snap.tenant(), products, merged(snap.productsPerModel(), Integer::sum),
        merged(snap.dimensions(), (a, b) -> a), merged(snap.lastArrivalMs(), Math::max),
        merged(snap.lastProducedMs(), Math::max), snap.lastOffsets(), snap.watermarks(), snap.origins());
  }

  private <V> Map<ModelKey, V> merged(Map<ModelKey, V> byModel, BinaryOperator<V> combine) {
    Map<ModelKey, V> out = new HashMap<>();
    byModel.forEach((model, value) -> out.merge(resolve(model), value, combine));
    return Map.copyOf(out);
  }
}
