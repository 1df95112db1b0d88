package io.visualsearch.defaultmodel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

class JsLiteralParserTest {

  @Test
  void readsMinifiedObjectWithUnquotedKeysAndMinifiedBooleans() {
    JsonNode node = JsLiteralParser.parse(
        "{name:\"conv2d_1\",trainable:!1,center:!0,strides:[2,2],epsilon:.001,seed:null,$x_1:'q'}");
    assertEquals("conv2d_1", node.get("name").asText());
    assertTrue(node.get("trainable").isBoolean());
    assertFalse(node.get("trainable").booleanValue());
    assertTrue(node.get("center").booleanValue());
    assertEquals(2, node.get("strides").get(1).asInt());
    assertEquals(0.001, node.get("epsilon").asDouble(), 0.0);
    assertTrue(node.get("seed").isNull());
    assertEquals("q", node.get("$x_1").asText());
  }

  @Test
  void readsJavaScriptNumberForms() {
    JsonNode node = JsLiteralParser.parse("[.5,-.76013,8.999999749903509e-7,1E3,-12,+3,5.,0]");
    assertEquals(0.5, node.get(0).asDouble(), 0.0);
    assertEquals(-0.76013, node.get(1).asDouble(), 0.0);
    assertEquals(8.999999749903509e-7, node.get(2).asDouble(), 0.0);
    assertEquals(1000.0, node.get(3).asDouble(), 0.0);
    assertTrue(node.get(4).isIntegralNumber());
    assertEquals(-12, node.get(4).asInt());
    assertEquals(3, node.get(5).asInt());
    assertEquals(5.0, node.get(6).asDouble(), 0.0);
    assertEquals(0, node.get(7).asInt());
  }

  @Test
  void readsStringsWithEscapesWithoutTouchingTheirContent() {
    JsonNode node = JsLiteralParser.parse("{a:'it\\'s',b:\"tab\\there \\u00e9\\x41\",c:\"!0 .5 {x:1}\"}");
    assertEquals("it's", node.get("a").asText());
    assertEquals("tab\there \u00e9A", node.get("b").asText());
    assertEquals("!0 .5 {x:1}", node.get("c").asText());
  }

  @Test
  void acceptsQuotedAndNumericKeysTrailingCommasAndVoidZero() {
    JsonNode node = JsLiteralParser.parse(" { \"quoted key\" : 1 , 2 : [ 3 , ] , u : void 0 , } ");
    assertEquals(1, node.get("quoted key").asInt());
    assertEquals(1, node.get("2").size());
    assertTrue(node.get("u").isNull());
  }

  @Test
  void parseAtStopsAfterTheLiteral() {
    String text = "n.exports={a:[1,2]},{}]},{},[1])(1)});";
    JsLiteralParser.Parsed parsed = JsLiteralParser.parseAt(text, "n.exports=".length());
    assertEquals(2, parsed.value().get("a").size());
    assertEquals(',', text.charAt(parsed.end()));
  }

  @Test
  void rejectsWhatIsNotALiteralWithItsOffset() {
    IllegalArgumentException identifier =
        assertThrows(IllegalArgumentException.class, () -> JsLiteralParser.parse("{a:someVariable}"));
    assertTrue(identifier.getMessage().contains("someVariable"), identifier.getMessage());
    assertTrue(identifier.getMessage().contains("offset 3"), identifier.getMessage());
    assertThrows(IllegalArgumentException.class, () -> JsLiteralParser.parse("{a:1"));
    assertThrows(IllegalArgumentException.class, () -> JsLiteralParser.parse("[1 2]"));
    assertThrows(IllegalArgumentException.class, () -> JsLiteralParser.parse("{a:\"open}"));
    assertThrows(IllegalArgumentException.class, () -> JsLiteralParser.parse("[.]"));
    assertThrows(IllegalArgumentException.class, () -> JsLiteralParser.parse("[1e]"));
    assertThrows(IllegalArgumentException.class, () -> JsLiteralParser.parse("!function(){}"));
    assertThrows(IllegalArgumentException.class, () -> JsLiteralParser.parse("{a:1} trailing"));
  }

  @Test
  void rejectsPathologicalNestingInsteadOfOverflowingTheStack() {
    String deep = "[".repeat(100_000);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JsLiteralParser.parse(deep));
    assertTrue(e.getMessage().contains("nesting"), e.getMessage());
  }
}
