package io.visualsearch.searchapi.index;

import io.visualsearch.indexformat.IndexManifest;

/**
 * The model a version's vectors were computed with, and their dimension: what a vector must match
 * to be compared with them. Work that outlives a swap (a queued rollout stand-in) keeps this rather
 * than the {@link LoadedIndex}, whose sku and image maps of every product would stay on the heap
 * until it ran.
 *
 * @param name null or empty when not recorded
 * @param signature null or empty when not recorded
 * @param variant the generator's vector variant; null or empty when not recorded
 */
public record IndexModel(String name, long version, String signature, String variant, int dimension) {

  static IndexModel of(IndexManifest m) {
    return new IndexModel(m.modelName(), m.modelVersion(), m.signature(), m.vectorVariant(), m.dimension());
  }

  /** Whether vectors of model {@code name} may sit beside these: equal, or either side unknown. */
  public boolean fitsName(String name) {
    return agree(name, this.name);
  }

  /**
   * Whether vectors computed with {@code signature} may be compared with these: equal, or either
   * side unknown (a record or manifest from before the field was written). Another signature of the
   * same model version may have the same dimension and still be another layer.
   */
  public boolean fitsSignature(String signature) {
    return agree(signature, this.signature);
  }

  /**
   * Whether vectors of {@code variant} (signature, output and image shaping) may be compared with
   * these: equal, or either side unknown (records and manifests from before the field).
   */
  public boolean fitsVariant(String variant) {
    return agree(variant, this.variant);
  }

  /**
   * Whether a vector of this model version, name, signature and variant lies in these vectors'
   * space: the version equal, the rest equal or unknown on either side (see the three above).
   */
  public boolean fits(String name, long version, String signature, String variant) {
    return version == this.version && fitsName(name) && fitsSignature(signature) && fitsVariant(variant);
  }

  private static boolean agree(String a, String b) {
    return a == null || b == null || a.isEmpty() || b.isEmpty() || a.equals(b);
  }
}
