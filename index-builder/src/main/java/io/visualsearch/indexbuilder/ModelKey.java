package io.visualsearch.indexbuilder;

/**
 * The model that produced a vector: name, version, the serving signature it came from (two
 * signatures of one model are two embedding spaces) and the generator's vector variant (the output
 * read and how images were shaped: changing either gives another space of the same dimension).
 * Vectors of two keys never share an index. Keys order by version first, so "newest model" means
 * the highest version number. An empty variant is a record written before the field existed
 * ({@link LegacyVariants}).
 */
record ModelKey(String name, long version, String signature, String variant) implements Comparable<ModelKey> {

  @Override
  public int compareTo(ModelKey o) {
    int c = Long.compare(version, o.version);
    if (c == 0) {
      c = name.compareTo(o.name);
    }
    if (c == 0) {
      c = signature.compareTo(o.signature);
    }
    return c != 0 ? c : variant.compareTo(o.variant);
  }

  /** Whether the vector's record did not name its variant. */
  boolean variantUnknown() {
    return variant.isEmpty();
  }

  /** Whether {@code o} differs from this key in its variant at most. */
  boolean sameLane(ModelKey o) {
    return version == o.version && name.equals(o.name) && signature.equals(o.signature);
  }

  @Override
  public String toString() {
    return name + ":" + version + (signature.isEmpty() ? "" : "/" + signature)
        + (variant.isEmpty() ? "" : " [" + variant + "]");
  }
}
