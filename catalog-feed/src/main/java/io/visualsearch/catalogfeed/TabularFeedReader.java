package io.visualsearch.catalogfeed;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * Delimited feeds with a header row of attribute names: Merchant TSV and CSV. Records are cut by
 * {@link BoundedRecordReader} (so row size stays bounded), then split into fields: TSV by tabs
 * (Merchant TSV has no quoting beyond optional surrounding quotes), CSV by Commons CSV.
 */
final class TabularFeedReader {

  /** How one record's text becomes fields. */
  static final class Dialect {
    private final CSVFormat csv;

    private Dialect(CSVFormat csv) {
      this.csv = csv;
    }

    static Dialect tsv() {
      return new Dialect(null);
    }

    static Dialect csv(char delimiter) {
      return new Dialect(CSVFormat.RFC4180.builder().setDelimiter(delimiter).get());
    }

    boolean quoteAware() {
      return csv != null;
    }

    /** The CSV field delimiter (meaningful when quote-aware). */
    char delimiter() {
      return csv == null ? '\t' : csv.getDelimiterString().charAt(0);
    }

    List<String> split(String record) throws IOException {
      if (csv == null) {
        List<String> fields = new ArrayList<>();
        for (String field : record.split("\t", -1)) {
          fields.add(unquote(field));
        }
        return fields;
      }
      try (CSVParser parser = CSVParser.parse(record, csv)) {
        List<CSVRecord> records = parser.getRecords();
        if (records.size() != 1) {
          throw new IOException("expected one record, found " + records.size());
        }
        return records.get(0).toList();
      } catch (UncheckedIOException | IllegalStateException e) {
        throw new IOException(e.getMessage(), e);
      }
    }

    /** Merchant TSV may wrap a whole value in double quotes, with "" for a literal quote. */
    private static String unquote(String field) {
      String s = field.strip();
      if (s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"")) {
        return s.substring(1, s.length() - 1).replace("\"\"", "\"");
      }
      return field;
    }
  }

  /** Header names a MISSING_COLUMNS refusal lists before saying how many more the header has. */
  private static final int LISTED_COLUMNS = 20;

  private final Dialect dialect;
  private final int maxRowBytes;

  TabularFeedReader(Dialect dialect, int maxRowBytes) {
    this.dialect = dialect;
    this.maxRowBytes = maxRowBytes;
  }

  void read(Reader reader, RowHandler handler) throws IOException, FeedRefusedException {
    BoundedRecordReader records = dialect.quoteAware()
        ? BoundedRecordReader.csv(reader, dialect.delimiter(), maxRowBytes)
        : new BoundedRecordReader(reader, maxRowBytes);
    BoundedRecordReader.Record headerRecord = records.next();
    if (headerRecord == null) {
      throw new FeedRefusedException(FeedRefusedException.Reason.MISSING_COLUMNS, "the feed has no header row");
    }
    if (headerRecord.oversized()) {
      throw new FeedRefusedException(
          FeedRefusedException.Reason.MISSING_COLUMNS, "the header row is larger than " + maxRowBytes + " bytes");
    }
    List<String> header;
    try {
      header = dialect.split(headerRecord.text()).stream().map(AttributeNames::normalise).toList();
    } catch (IOException e) {
      throw new FeedRefusedException(
          FeedRefusedException.Reason.MALFORMED, "the header row cannot be read: " + e.getMessage(), e);
    }
    Set<String> missing = new TreeSet<>(AttributeNames.REQUIRED);
    missing.removeAll(header);
    if (!missing.isEmpty()) {
      throw new FeedRefusedException(
          FeedRefusedException.Reason.MISSING_COLUMNS,
          "the header row lacks required column(s) " + String.join(", ", missing)
              + "; found: " + columnList(header));
    }
    int idColumn = header.indexOf(AttributeNames.ID);
    BoundedRecordReader.Record record;
    while ((record = records.next()) != null) {
      if (record.unterminated()) {
        // Every line after the opening quote joined this one record: as rejected rows, they would
        // all count as removed from the catalog, though only one quote was wrong.
        throw new FeedRefusedException(FeedRefusedException.Reason.MALFORMED, "a quoted field opened on line "
            + record.line() + " is never closed, so every line after it would be one row; write a quote inside"
            + " a quoted field as two quotes (\"\")");
      }
      if (record.oversized()) {
        handler.unreadable(record.line(), idFromPrefix(record.text(), idColumn),
            "row is " + record.bytes() + " bytes, above the limit of " + maxRowBytes + " bytes");
        continue;
      }
      List<String> fields;
      try {
        fields = dialect.split(record.text());
      } catch (IOException e) {
        handler.unreadable(record.line(), "", "malformed row: " + e.getMessage());
        continue;
      }
      if (fields.size() > header.size() && !fields.subList(header.size(), fields.size()).stream()
          .allMatch(String::isBlank)) {
        handler.unreadable(record.line(), idColumn < fields.size() ? fields.get(idColumn).strip() : "",
            "row has " + fields.size() + " fields but the header has " + header.size());
        continue;
      }
      Map<String, List<String>> attributes = new LinkedHashMap<>();
      for (int c = 0; c < header.size() && c < fields.size(); c++) {
        List<String> values = attributes.computeIfAbsent(header.get(c), k -> new ArrayList<>(1));
        if (header.get(c).equals(AttributeNames.ADDITIONAL_IMAGE_LINK)) {
          // Delimited text packs several links into one cell, comma-separated (a comma inside a
          // link is written %2C there); XML elements and JSON array items are one link each.
          values.addAll(List.of(fields.get(c).split(",")));
        } else {
          values.add(fields.get(c));
        }
      }
      handler.row(new RawRow(record.line(), attributes));
    }
  }

  /**
   * The first few header names and how many more: enough to spot a wrong delimiter or a misspelt
   * name. A header of half a million commas listed in full made a refusal of a megabyte.
   */
  private static String columnList(List<String> header) {
    if (header.size() <= LISTED_COLUMNS) {
      return String.join(", ", header);
    }
    return String.join(", ", header.subList(0, LISTED_COLUMNS)) + " and " + (header.size() - LISTED_COLUMNS)
        + " more";
  }

  /** Best effort: the id of an oversized row when it lies in the kept prefix (TSV only). */
  private String idFromPrefix(String prefix, int idColumn) {
    if (dialect.quoteAware()) {
      return "";
    }
    String[] parts = prefix.split("\t", -1);
    // The last part may be cut short by the prefix limit, so only a complete field counts.
    return idColumn < parts.length - 1 ? parts[idColumn].strip() : "";
  }
}
