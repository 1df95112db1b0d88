package io.visualsearch.defaultmodel;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The exported value of a minified browserify UMD file whose entry module is a single
 * {@code module.exports = <literal>} statement, which is how nsfwjs ships its model topology and
 * its weight shards.
 *
 * <p>The minifier renames the module function's parameters per file, so the entry module is found
 * by its shape, {@code {1:[function(a,b,c){b.exports=}, where the second parameter is
 * {@code module}; the literal after it is read with {@link JsLiteralParser}, never evaluated.
 */
public final class BrowserifyBundle {

  private static final Pattern ENTRY_MODULE =
      Pattern.compile("\\{\\s*1\\s*:\\s*\\[\\s*function\\s*\\(\\s*([\\w$]+)\\s*,\\s*([\\w$]+)\\s*,\\s*([\\w$]+)\\s*\\)\\s*\\{\\s*\\2\\.exports\\s*=");

  private BrowserifyBundle() {}

  /**
   * Returns the literal assigned to {@code module.exports} by the bundle's entry module.
   *
   * @param source the bundle's text
   * @param fileName used in error messages only
   */
  public static JsonNode exportedLiteral(String source, String fileName) {
    Matcher matcher = ENTRY_MODULE.matcher(source);
    if (!matcher.find()) {
      throw new IllegalArgumentException(fileName + ": no browserify entry module assigning module.exports");
    }
    if (matcher.find()) {
      throw new IllegalArgumentException(fileName + ": more than one browserify entry module");
    }
    matcher.reset();
    matcher.find();
    try {
      return JsLiteralParser.parseAt(source, matcher.end()).value();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(fileName + ": " + e.getMessage(), e);
    }
  }
}
