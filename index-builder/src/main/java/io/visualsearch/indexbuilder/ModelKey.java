package io.visualsearch.indexbuilder;

/**
 * The model that produced a vector: name, version and the serving signature it came from (two
 * signatures of one model are two embedding spaces). Vectors of two keys never share an index.
 * Keys order by version first, so "newest model" means the highest version number.
 */
record ModelKey(String name, long version, String signature) implements Comparable<ModelKey> {

  @Override
  public int compareTo(ModelKey o) {
    int c = Long.compare(version, o.version);
    if (c == 0) {
      c = name.compareTo(o.name);
    }
    return c != 0 ? c : signature.compareTo(o.signature);
  }

  @Override
  public String toString() {
    return name + ":" + version + (signature.isEmpty() ? "" : "/" + signature);
  }
}
