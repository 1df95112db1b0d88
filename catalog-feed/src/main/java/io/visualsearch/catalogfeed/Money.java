package io.visualsearch.catalogfeed;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Currency;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** An amount in an ISO 4217 currency, as Merchant feeds write it ("12.99 USD"). */
public record Money(BigDecimal amount, Currency currency) {

  /** Decimals kept: prices travel as micro-units (amount_micros). */
  public static final int MICRO_DIGITS = 6;
  /** A trillion: any price above is a feed error, and in micro-units it still fits a long. */
  public static final BigDecimal MAX_AMOUNT = BigDecimal.TEN.pow(12);

  // Amount and code in either order, optional space between: "12.99 USD", "USD 12.99", "12.99USD".
  private static final Pattern AMOUNT_FIRST =
      Pattern.compile("([0-9][0-9.,]*)\\s*([A-Za-z]{3})");
  private static final Pattern CODE_FIRST =
      Pattern.compile("([A-Za-z]{3})\\s*([0-9][0-9.,]*)");
  private static final Pattern DECIMAL_COMMA = Pattern.compile("[0-9]+,[0-9]{1,2}");
  /**
   * Longest amount read: 13 integer digits with 4 group separators, a decimal separator and 18
   * decimals. Checked before parsing, because BigDecimal takes time quadratic in the digits: a
   * feed of half-megabyte prices would hold the one sync thread every tenant shares for hours.
   */
  static final int MAX_AMOUNT_CHARS = 36;
  /** Digits grouped by thousands, the groups separated by one space here. */
  private static final Pattern THOUSANDS = Pattern.compile("[0-9]{1,3}( [0-9]{3})*");

  public Money {
    Objects.requireNonNull(amount, "amount");
    Objects.requireNonNull(currency, "currency");
    if (amount.signum() < 0) {
      throw new IllegalArgumentException("negative amount " + amount.toPlainString());
    }
    if (amount.compareTo(MAX_AMOUNT) > 0) {
      throw new IllegalArgumentException("amount " + amount.toPlainString() + " is above " + MAX_AMOUNT.toPlainString());
    }
    // Prices travel as integer micro-units: finer digits are float-export noise ("12.990000000000002").
    if (amount.scale() > MICRO_DIGITS) {
      amount = amount.setScale(MICRO_DIGITS, RoundingMode.HALF_EVEN);
    }
    // One canonical scale so "12.9 USD" and "12.90 USD" are the same value (equals, hash).
    amount = amount.stripTrailingZeros();
    if (amount.scale() < 0) {
      amount = amount.setScale(0);
    }
  }

  /**
   * Parses "12.99 USD" (also "USD 12.99", "1,299.00 USD", "1.299,00 EUR", "12,99 EUR").
   *
   * @throws IllegalArgumentException with a message a retailer can act on
   */
  public static Money parse(String text) {
    String s = text == null ? "" : text.strip();
    if (s.isEmpty()) {
      throw new IllegalArgumentException("price is empty");
    }
    if (s.startsWith("-")) {
      throw new IllegalArgumentException("price '" + s + "' is negative");
    }
    String number;
    String code;
    Matcher m = AMOUNT_FIRST.matcher(s);
    if (m.matches()) {
      number = m.group(1);
      code = m.group(2);
    } else {
      m = CODE_FIRST.matcher(s);
      if (!m.matches()) {
        throw new IllegalArgumentException(
            "price '" + s + "' is not '<amount> <ISO currency>', e.g. '12.99 USD'");
      }
      code = m.group(1);
      number = m.group(2);
    }
    if (number.length() > MAX_AMOUNT_CHARS) {
      throw new IllegalArgumentException("price '" + s + "' has an amount of " + number.length()
          + " characters; at most " + MAX_AMOUNT_CHARS + " are read");
    }
    Currency currency;
    try {
      currency = Currency.getInstance(code.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("price '" + s + "' has unknown currency code '" + code + "'");
    }
    BigDecimal amount;
    try {
      amount = new BigDecimal(plainDecimal(number));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("price '" + s + "' has a malformed amount");
    }
    try {
      return new Money(amount, currency);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("price '" + s + "': " + e.getMessage());
    }
  }

  private static String plainDecimal(String number) {
    int dot = number.lastIndexOf('.');
    int comma = number.lastIndexOf(',');
    if (dot >= 0 && comma >= 0) {
      // Both: the last one is the decimal separator, the other groups thousands, whichever the
      // convention ("1,299.00" or "1.299,00"; reading the second as 1.299 put prices 1000x low).
      char decimal = dot > comma ? '.' : ',';
      char grouping = decimal == '.' ? ',' : '.';
      int at = Math.max(dot, comma);
      String whole = number.substring(0, at);
      if (number.indexOf(decimal) != at || !THOUSANDS.matcher(whole.replace(grouping, ' ')).matches()) {
        throw new NumberFormatException(number);
      }
      return whole.replace(String.valueOf(grouping), "") + "." + number.substring(at + 1);
    }
    if (dot >= 0) {
      return number;
    }
    if (DECIMAL_COMMA.matcher(number).matches()) {
      return number.replace(',', '.'); // "12,99": decimal comma
    }
    return number.replace(",", ""); // commas are thousands separators
  }

  /** Merchant notation, e.g. "12.99 USD" (at least the currency's usual decimals). */
  @Override
  public String toString() {
    int digits = Math.max(currency.getDefaultFractionDigits(), amount.scale());
    return amount.setScale(Math.max(digits, 0)).toPlainString() + " " + currency.getCurrencyCode();
  }
}
