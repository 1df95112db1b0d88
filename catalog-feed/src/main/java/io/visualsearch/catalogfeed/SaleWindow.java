package io.visualsearch.catalogfeed;

import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.time.temporal.TemporalAccessor;

/**
 * When a product's sale price applies: Merchant's {@code sale_price_effective_date}, an ISO 8601
 * interval "start/end". Retailers load a sale days ahead (Black Friday's the week before), so a
 * sale price shown outside its window is a price the shop does not charge. Decided by whoever shows
 * or filters the price, at that moment: the feed row does not change when the sale starts, so the
 * catalog sends nothing then.
 *
 * @param startMs epoch millis the sale starts (inclusive); 0 = since ever
 * @param endMs epoch millis the sale ends (exclusive); 0 = for ever
 */
public record SaleWindow(long startMs, long endMs) {

  /** No window given: the sale price applies whenever there is one. */
  public static final SaleWindow ALWAYS = new SaleWindow(0, 0);

  /**
   * "2025-11-28T00:00-0800", "2025-11-28T00:00:00Z", "2025-11-28T00:00+01:00": Merchant's forms, the
   * offset with or without a colon; without one the time is UTC.
   */
  private static final DateTimeFormatter DATE_TIME = new DateTimeFormatterBuilder()
      .append(DateTimeFormatter.ISO_LOCAL_DATE)
      .appendLiteral('T')
      .appendValue(ChronoField.HOUR_OF_DAY, 2).appendLiteral(':').appendValue(ChronoField.MINUTE_OF_HOUR, 2)
      .optionalStart().appendLiteral(':').appendValue(ChronoField.SECOND_OF_MINUTE, 2)
      .optionalStart().appendFraction(ChronoField.NANO_OF_SECOND, 1, 9, true).optionalEnd()
      .optionalEnd()
      .optionalStart().appendOffset("+HH:MM", "Z").optionalEnd()
      .optionalStart().appendOffset("+HHMM", "Z").optionalEnd()
      .toFormatter();

  public SaleWindow {
    if (startMs < 0 || endMs < 0 || (startMs > 0 && endMs > 0 && endMs <= startMs)) {
      throw new IllegalArgumentException("sale_price_effective_date ends before it starts");
    }
  }

  /** Whether the sale price applies at {@code nowMs}. */
  public boolean contains(long nowMs) {
    return (startMs == 0 || nowMs >= startMs) && (endMs == 0 || nowMs < endMs);
  }

  /**
   * Parses "start/end"; either side may be empty (open). A bare date starts at its first moment and,
   * as an end, ends after its last (UTC).
   *
   * @throws IllegalArgumentException naming the attribute and the value when it is neither
   */
  public static SaleWindow parse(String text) {
    int slash = text.indexOf('/');
    if (slash < 0 || text.indexOf('/', slash + 1) >= 0) {
      throw invalid(text);
    }
    try {
      long start = moment(text.substring(0, slash).strip(), false);
      long end = moment(text.substring(slash + 1).strip(), true);
      if (start == 0 && end == 0) {
        throw invalid(text);
      }
      return new SaleWindow(start, end);
    } catch (DateTimeParseException e) {
      throw invalid(text);
    }
  }

  private static long moment(String side, boolean end) {
    if (side.isEmpty()) {
      return 0;
    }
    if (side.indexOf('T') < 0) {
      LocalDate day = LocalDate.parse(side, DateTimeFormatter.ISO_LOCAL_DATE);
      return (end ? day.plusDays(1) : day).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
    }
    TemporalAccessor t = DATE_TIME.parse(side);
    if (t.isSupported(ChronoField.OFFSET_SECONDS)) {
      return OffsetDateTime.from(t).toInstant().toEpochMilli();
    }
    return LocalDateTime.from(t).toInstant(ZoneOffset.UTC).toEpochMilli();
  }

  private static IllegalArgumentException invalid(String text) {
    String shown = text.length() > 80 ? text.substring(0, 80) + "..." : text;
    return new IllegalArgumentException("sale_price_effective_date '" + shown
        + "' is not an ISO 8601 interval start/end (e.g. 2025-11-28T00:00-0800/2025-12-01T23:59-0800)");
  }
}
