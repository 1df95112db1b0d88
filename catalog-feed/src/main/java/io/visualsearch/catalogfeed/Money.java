package io.visualsearch.catalogfeed;

import java.math.BigDecimal;
import java.util.Currency;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** An amount in an ISO 4217 currency, as Merchant feeds write it ("12.99 USD"). */
public record Money(BigDecimal amount, Currency currency) {

  // Amount and code in either order, optional space between: "12.99 USD", "USD 12.99", "12.99USD".
  private static final Pattern AMOUNT_FIRST =
      Pattern.compile("([0-9][0-9.,]*)\\s*([A-Za-z]{3})");
  private static final Pattern CODE_FIRST =
      Pattern.compile("([A-Za-z]{3})\\s*([0-9][0-9.,]*)");
  private static final Pattern DECIMAL_COMMA = Pattern.compile("[0-9]+,[0-9]{1,2}");

  public Money {
    Objects.requireNonNull(amount, "amount");
    Objects.requireNonNull(currency, "currency");
    if (amount.signum() < 0) {
      throw new IllegalArgumentException("negative amount " + amount.toPlainString());
    }
    // One canonical scale so "12.9 USD" and "12.90 USD" are the same value (equals, hash).
    amount = amount.stripTrailingZeros();
    if (amount.scale() < 0) {
      amount = amount.setScale(0);
    }
  }

  /**
   * Parses "12.99 USD" (also "USD 12.99", "1,299.00 USD", "12,99 EUR").
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
    Currency currency;
    try {
      currency = Currency.getInstance(code.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("price '" + s + "' has unknown currency code '" + code + "'");
    }
    try {
      return new Money(new BigDecimal(plainDecimal(number)), currency);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("price '" + s + "' has a malformed amount");
    }
  }

  private static String plainDecimal(String number) {
    if (number.contains(".")) {
      return number.replace(",", ""); // commas are thousands separators
    }
    if (DECIMAL_COMMA.matcher(number).matches()) {
      return number.replace(',', '.'); // "12,99": decimal comma
    }
    return number.replace(",", "");
  }

  /** Merchant notation, e.g. "12.99 USD" (at least the currency's usual decimals). */
  @Override
  public String toString() {
    int digits = Math.max(currency.getDefaultFractionDigits(), amount.scale());
    return amount.setScale(Math.max(digits, 0)).toPlainString() + " " + currency.getCurrencyCode();
  }
}
