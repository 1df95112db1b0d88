package io.visualsearch.indexbuilder;

import io.visualsearch.indexformat.IndexManifest;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Whether a periodic rebuild of a tenant whose published version already covers every change would
 * publish anything new. What the periodic rebuild is for is retraining: debounced builds reuse the
 * tenant's quantiser (IVF lists, PQ codebooks, PCA projection) fitted to the catalog as it was, and
 * only a periodic rebuild fits it again ({@link TrainedQuantizers}). A version trained on its own
 * vectors, or needing no training, gains nothing: the same deterministic sample trains the same
 * quantiser, and the rebuild published an identical version that every search-api replica loaded
 * again and response-consumer rewrote every similar-items file for. So a covered tenant is rebuilt
 * only when its version reused an earlier training, when this run cannot tell (the version was
 * published before a restart, or by another builder, and its recipe trains: one rebuild fits it),
 * or when the settings now choose another recipe or shard count than the version has (a changed
 * {@code INDEX_BUILDER_EF_SEARCH} reaches quiet tenants this way, as it did when every periodic
 * rebuild published). Thread-safe.
 */
final class PeriodicCheck {

  private final TenantBuild.RecipeChooser recipes;
  private final ShardBuilder shards;
  /** Per tenant, the version this run last published if its quantiser was fitted to its own vectors or it has none. */
  private final Map<String, String> fitted = new ConcurrentHashMap<>();

  PeriodicCheck(TenantBuild.RecipeChooser recipes, ShardBuilder shards) {
    this.recipes = recipes;
    this.shards = shards;
  }

  /** This run published {@code version} of the tenant, built with {@code training}. */
  void published(String tenant, String version, BuiltIndex.Training training) {
    if (training == BuiltIndex.Training.REUSED) {
      fitted.remove(tenant);
    } else {
      fitted.put(tenant, version);
    }
  }

  /** Whether rebuilding the tenant's catalog, which {@code served} covers, would publish another index. */
  boolean rebuildDiffers(PublishedIndex served) {
    IndexManifest m = served.manifest();
    if (m.factory() == null || m.shards() == null) {
      return true;
    }
    int vectors = (int) Math.min(m.vectorCount(), Integer.MAX_VALUE);
    IndexRecipe recipe = recipes.choose(vectors, m.dimension());
    boolean sameRecipe = recipe.factory().equals(m.factory())
        && Objects.equals(blankAsNull(recipe.searchParameters()), blankAsNull(m.searchParameters()))
        && shards.shardsFor(vectors, m.dimension(), recipe) == m.shards().size();
    if (!sameRecipe) {
      return true;
    }
    boolean trains = IndexRecipe.trainingPointsNeeded(m.factory(), 0) > 0;
    return trains && !served.version().equals(fitted.get(m.tenant()));
  }

  private static String blankAsNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }
}
