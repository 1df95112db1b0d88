package io.visualsearch.defaultmodel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

class BrowserifyBundleTest {

  // The UMD prologue as browserify + terser emit it, with per-file parameter names.
  private static String bundle(String params, String moduleParam, String literal) {
    return "!function(d){if(\"object\"==typeof exports)module.exports=d();else{(this).x=d()}}"
        + "(function(){return function d(h,Z,S){function R(V,l){return Z[V].exports}return R}("
        + "{1:[function(" + params + "){" + moduleParam + ".exports=" + literal + "},{}]},{},[1])(1)});";
  }

  @Test
  void findsTheEntryModuleWhateverTheMinifierNamedItsParameters() {
    JsonNode exported = BrowserifyBundle.exportedLiteral(bundle("a,n,i", "n", "{modelTopology:{x:!0}}"), "model.min.js");
    assertEquals(true, exported.get("modelTopology").get("x").booleanValue());
    JsonNode shard = BrowserifyBundle.exportedLiteral(bundle("q,$,w", "$", "\"AAEC\""), "shard.min.js");
    assertEquals("AAEC", shard.asText());
  }

  @Test
  void ignoresAssignmentsToOtherParameters() {
    // i.exports (the third parameter, `exports`) is not module.exports
    assertThrows(IllegalArgumentException.class,
        () -> BrowserifyBundle.exportedLiteral(bundle("a,n,i", "i", "1"), "x.js"));
  }

  @Test
  void namesTheFileWhenTheBundleIsNotOneItUnderstands() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BrowserifyBundle.exportedLiteral("module.exports = 1;", "plain.js"));
    assertEquals(true, e.getMessage().startsWith("plain.js"));
  }
}
