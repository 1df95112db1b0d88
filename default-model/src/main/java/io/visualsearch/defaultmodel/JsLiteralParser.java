package io.visualsearch.defaultmodel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Reads one JavaScript literal value (object, array, string, number, boolean, null) as a Jackson
 * tree, in the form minifiers emit: unquoted or numeric keys, single- or double-quoted strings,
 * {@code !0}/{@code !1} for true/false, {@code void 0} for undefined, numbers such as {@code .001}
 * or {@code -.5e-3}, trailing commas.
 *
 * <p>Lenient JSON readers cover only part of that (no {@code !0}, no {@code void 0}), and
 * rewriting the text with regular expressions would also rewrite string contents, so this is a
 * small recursive-descent reader over exactly that grammar. It is not a JavaScript evaluator:
 * identifiers in value position, expressions and comments are rejected with their offset.
 */
public final class JsLiteralParser {

  /** A parsed value and the offset just past its last character. */
  public record Parsed(JsonNode value, int end) {}

  private static final int MAX_DEPTH = 512;

  private final JsonNodeFactory nodes = JsonNodeFactory.instance;
  private final String text;
  private int pos;
  private int depth;

  private JsLiteralParser(String text, int start) {
    this.text = text;
    this.pos = start;
  }

  /** Parses the literal that starts at {@code start} (after optional whitespace). */
  public static Parsed parseAt(String text, int start) {
    JsLiteralParser parser = new JsLiteralParser(text, start);
    JsonNode value = parser.value();
    return new Parsed(value, parser.pos);
  }

  /** Parses a text that holds exactly one literal, with nothing but whitespace around it. */
  public static JsonNode parse(String text) {
    JsLiteralParser parser = new JsLiteralParser(text, 0);
    JsonNode value = parser.value();
    parser.skipWhitespace();
    if (parser.pos != text.length()) {
      throw parser.error("unexpected text after the literal");
    }
    return value;
  }

  private JsonNode value() {
    skipWhitespace();
    if (pos >= text.length()) {
      throw error("unexpected end of input");
    }
    char c = text.charAt(pos);
    switch (c) {
      case '{':
        return object();
      case '[':
        return array();
      case '"':
      case '\'':
        return nodes.textNode(string());
      case '!':
        return negatedNumber();
      default:
        if (c == '-' || c == '+' || c == '.' || isDigit(c)) {
          return number();
        }
        if (Character.isJavaIdentifierStart(c)) {
          return keyword();
        }
        throw error("unexpected character '" + c + "'");
    }
  }

  private ObjectNode object() {
    enter();
    ObjectNode object = nodes.objectNode();
    pos++; // '{'
    while (true) {
      skipWhitespace();
      if (peek() == '}') {
        pos++;
        break;
      }
      String key = key();
      skipWhitespace();
      expect(':');
      object.set(key, value());
      skipWhitespace();
      char next = peek();
      if (next == ',') {
        pos++;
      } else if (next == '}') {
        pos++;
        break;
      } else {
        throw error("expected ',' or '}' in object");
      }
    }
    depth--;
    return object;
  }

  private ArrayNode array() {
    enter();
    ArrayNode array = nodes.arrayNode();
    pos++; // '['
    while (true) {
      skipWhitespace();
      if (peek() == ']') {
        pos++;
        break;
      }
      array.add(value());
      skipWhitespace();
      char next = peek();
      if (next == ',') {
        pos++;
      } else if (next == ']') {
        pos++;
        break;
      } else {
        throw error("expected ',' or ']' in array");
      }
    }
    depth--;
    return array;
  }

  private String key() {
    char c = peek();
    if (c == '"' || c == '\'') {
      return string();
    }
    int start = pos;
    if (isDigit(c)) {
      while (pos < text.length() && isDigit(text.charAt(pos))) {
        pos++;
      }
      return text.substring(start, pos);
    }
    if (!Character.isJavaIdentifierStart(c)) {
      throw error("expected a property name");
    }
    while (pos < text.length() && Character.isJavaIdentifierPart(text.charAt(pos))) {
      pos++;
    }
    return text.substring(start, pos);
  }

  private String string() {
    char quote = text.charAt(pos++);
    StringBuilder out = new StringBuilder();
    while (true) {
      if (pos >= text.length()) {
        throw error("unterminated string");
      }
      char c = text.charAt(pos++);
      if (c == quote) {
        return out.toString();
      }
      if (c == '\n' || c == '\r') {
        throw error("line break inside a string");
      }
      if (c != '\\') {
        out.append(c);
        continue;
      }
      if (pos >= text.length()) {
        throw error("unterminated escape");
      }
      char e = text.charAt(pos++);
      switch (e) {
        case 'n' -> out.append('\n');
        case 't' -> out.append('\t');
        case 'r' -> out.append('\r');
        case 'b' -> out.append('\b');
        case 'f' -> out.append('\f');
        case 'v' -> out.append('\u000B');
        case '0' -> out.append('\0');
        case 'x' -> out.append((char) hex(2));
        case 'u' -> out.append((char) hex(4));
        default -> out.append(e); // \" \' \\ \/ and identity escapes
      }
    }
  }

  private int hex(int digits) {
    if (pos + digits > text.length()) {
      throw error("truncated hex escape");
    }
    int value = 0;
    for (int i = 0; i < digits; i++) {
      int d = Character.digit(text.charAt(pos++), 16);
      if (d < 0) {
        throw error("bad hex escape");
      }
      value = value * 16 + d;
    }
    return value;
  }

  /** Minifiers write true as {@code !0} and false as {@code !1}. */
  private JsonNode negatedNumber() {
    int start = pos;
    pos++; // '!'
    JsonNode operand = value();
    if (!operand.isNumber()) {
      pos = start;
      throw error("'!' is only supported before a number");
    }
    return nodes.booleanNode(operand.asDouble() == 0.0);
  }

  private JsonNode number() {
    int start = pos;
    if (peek() == '-' || peek() == '+') {
      pos++;
    }
    int digitsStart = pos;
    while (pos < text.length() && isDigit(text.charAt(pos))) {
      pos++;
    }
    boolean integral = true;
    if (pos < text.length() && text.charAt(pos) == '.') {
      integral = false;
      pos++;
      while (pos < text.length() && isDigit(text.charAt(pos))) {
        pos++;
      }
    }
    if (pos == digitsStart || (pos == digitsStart + 1 && text.charAt(digitsStart) == '.')) {
      pos = start;
      throw error("malformed number");
    }
    if (pos < text.length() && (text.charAt(pos) == 'e' || text.charAt(pos) == 'E')) {
      integral = false;
      pos++;
      if (pos < text.length() && (text.charAt(pos) == '-' || text.charAt(pos) == '+')) {
        pos++;
      }
      int expStart = pos;
      while (pos < text.length() && isDigit(text.charAt(pos))) {
        pos++;
      }
      if (pos == expStart) {
        pos = start;
        throw error("malformed exponent");
      }
    }
    String literal = text.substring(start, pos);
    if (integral && pos - digitsStart <= 18) {
      return nodes.numberNode(Long.parseLong(literal.startsWith("+") ? literal.substring(1) : literal));
    }
    return nodes.numberNode(Double.parseDouble(literal));
  }

  private JsonNode keyword() {
    int start = pos;
    while (pos < text.length() && Character.isJavaIdentifierPart(text.charAt(pos))) {
      pos++;
    }
    String word = text.substring(start, pos);
    switch (word) {
      case "true":
        return nodes.booleanNode(true);
      case "false":
        return nodes.booleanNode(false);
      case "null":
        return nodes.nullNode();
      case "void":
        // `void 0` is how minifiers spell undefined; JSON has only null for it.
        value();
        return nodes.nullNode();
      default:
        pos = start;
        throw error("unsupported identifier '" + word + "' in value position");
    }
  }

  private void enter() {
    if (++depth > MAX_DEPTH) {
      throw error("nesting deeper than " + MAX_DEPTH);
    }
  }

  private void expect(char c) {
    if (peek() != c) {
      throw error("expected '" + c + "'");
    }
    pos++;
  }

  private char peek() {
    if (pos >= text.length()) {
      throw error("unexpected end of input");
    }
    return text.charAt(pos);
  }

  private void skipWhitespace() {
    while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
      pos++;
    }
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private IllegalArgumentException error(String message) {
    int from = Math.max(0, pos - 20);
    int to = Math.min(text.length(), pos + 20);
    return new IllegalArgumentException(
        message + " at offset " + pos + " near '" + text.substring(from, to) + "'");
  }
}
