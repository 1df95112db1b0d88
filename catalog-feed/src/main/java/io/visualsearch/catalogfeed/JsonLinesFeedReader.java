package io.visualsearch.catalogfeed;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.Reader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON Lines: one product object per line, attribute names as keys. Values may be strings,
 * numbers or booleans; arrays (e.g. additional_image_links) become several values; a price may
 * also be an object {"value"|"amount": ..., "currency": ...}.
 */
final class JsonLinesFeedReader {

  private final JsonFactory json = JsonFactory.builder().build();
  private final int maxRowBytes;

  JsonLinesFeedReader(int maxRowBytes) {
    this.maxRowBytes = maxRowBytes;
  }

  void read(Reader reader, RowHandler handler) throws IOException {
    BoundedRecordReader records = new BoundedRecordReader(reader, maxRowBytes);
    BoundedRecordReader.Record record;
    while ((record = records.next()) != null) {
      if (record.oversized()) {
        handler.unreadable(record.line(), "",
            "row is " + record.bytes() + " bytes, above the limit of " + maxRowBytes + " bytes");
        continue;
      }
      Map<String, List<String>> attributes;
      try {
        attributes = parseObject(record.text());
      } catch (IOException e) {
        handler.unreadable(record.line(), "", "malformed JSON: " + firstLine(e.getMessage()));
        continue;
      }
      handler.row(new RawRow(record.line(), attributes));
    }
  }

  private Map<String, List<String>> parseObject(String text) throws IOException {
    Map<String, List<String>> attributes = new LinkedHashMap<>();
    try (JsonParser parser = json.createParser(text)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        throw new IOException("a line must hold one JSON object");
      }
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String name = AttributeNames.normalise(parser.currentName());
        JsonToken value = parser.nextToken();
        List<String> values = attributes.computeIfAbsent(name, k -> new ArrayList<>(1));
        if (value == JsonToken.START_ARRAY) {
          while (parser.nextToken() != JsonToken.END_ARRAY) {
            if (parser.currentToken().isScalarValue()) {
              values.add(parser.getValueAsString(""));
            } else {
              parser.skipChildren();
            }
          }
        } else if (value == JsonToken.START_OBJECT) {
          values.add(moneyObject(parser));
        } else if (value != JsonToken.VALUE_NULL) {
          values.add(parser.getValueAsString(""));
        }
      }
      if (parser.currentToken() != JsonToken.END_OBJECT || parser.nextToken() != null) {
        throw new IOException("unexpected content after the object");
      }
    }
    return attributes;
  }

  /** {"value": "12.99", "currency": "USD"} to "12.99 USD"; other objects to "". */
  private static String moneyObject(JsonParser parser) throws IOException {
    String amount = "";
    String currency = "";
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String key = parser.currentName();
      JsonToken token = parser.nextToken();
      if (!token.isScalarValue()) {
        parser.skipChildren();
      } else if (key.equals("value") || key.equals("amount")) {
        amount = parser.getValueAsString("");
      } else if (key.equals("currency")) {
        currency = parser.getValueAsString("");
      }
    }
    return amount.isEmpty() ? "" : (amount + " " + currency).strip();
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "unreadable";
    }
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }
}
