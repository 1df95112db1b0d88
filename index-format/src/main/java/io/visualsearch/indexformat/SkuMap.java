package io.visualsearch.indexformat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which product each indexed vector is: {@code skus.tsv}, one line {@code <faiss id> TAB <sku>}
 * per vector, ids ascending. Written by the index-builder; read by search-api, response-consumer
 * and the cluster's reconciler, all through {@link #parse}, so a damaged map fails every reader
 * alike instead of being read loosely by one of them.
 */
public final class SkuMap {

  public static final String FILE = "skus.tsv";

  private SkuMap() {}

  /**
   * The file for {@code ids} and their {@code skus}, in that order.
   *
   * @throws IllegalArgumentException for a sku holding a tab or a line break, which would be read
   *     back as another line or column (the builder refuses such records before they get here)
   */
  public static byte[] write(long[] ids, List<String> skus) {
    if (ids.length != skus.size()) {
      throw new IllegalArgumentException(ids.length + " ids for " + skus.size() + " skus");
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(ids.length * 32);
    for (int i = 0; i < ids.length; i++) {
      String sku = skus.get(i);
      if (sku.isEmpty() || sku.indexOf('\t') >= 0 || sku.indexOf('\n') >= 0 || sku.indexOf('\r') >= 0) {
        throw new IllegalArgumentException("sku of id " + ids[i] + " is empty or holds a tab or line break");
      }
      out.writeBytes((ids[i] + "\t" + sku + "\n").getBytes(StandardCharsets.UTF_8));
    }
    return out.toByteArray();
  }

  /** Id to sku. @throws CorruptIndexException for a line that is not {@code <id>\t<sku>} or an id mapped twice */
  public static Map<Long, String> parse(byte[] bytes) throws CorruptIndexException {
    Map<Long, String> skus = new HashMap<>();
    String text = new String(bytes, StandardCharsets.UTF_8);
    int lineNo = 0;
    for (String line : text.split("\n")) {
      lineNo++;
      if (line.isEmpty()) {
        continue;
      }
      int tab = line.indexOf('\t');
      if (tab <= 0 || tab == line.length() - 1) {
        throw new CorruptIndexException(FILE + " line " + lineNo + " is not '<id>\\t<sku>'");
      }
      long id;
      try {
        id = Long.parseLong(line.substring(0, tab));
      } catch (NumberFormatException e) {
        throw new CorruptIndexException(FILE + " line " + lineNo + " has no numeric id");
      }
      if (skus.put(id, line.substring(tab + 1)) != null) {
        throw new CorruptIndexException(FILE + " maps id " + id + " twice");
      }
    }
    return skus;
  }
}
