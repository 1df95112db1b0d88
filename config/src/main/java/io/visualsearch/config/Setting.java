package io.visualsearch.config;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * One setting, defined once: its environment variable, type, default, validation and doc.
 * Instances are immutable; the fluent methods return copies so a shared definition can be
 * specialised (e.g. a different default) without touching the original.
 */
public final class Setting<T> {

  private final String env;
  private final String type;
  private final Function<String, T> parser;
  private final T defaultValue;
  private final boolean required;
  private final Predicate<T> validator;
  private final String validDescription;
  private final String doc;
  private final boolean secret;
  private final String defaultDescription;
  private final Function<T, String> shownAs;

  private Setting(String env, String type, Function<String, T> parser, T defaultValue, boolean required,
      Predicate<T> validator, String validDescription, String doc, boolean secret, String defaultDescription,
      Function<T, String> shownAs) {
    if (!env.matches("[A-Z][A-Z0-9_]*")) {
      throw new IllegalArgumentException("setting names are upper-case env var names: " + env);
    }
    this.env = env;
    this.type = type;
    this.parser = parser;
    this.defaultValue = defaultValue;
    this.required = required;
    this.validator = validator;
    this.validDescription = validDescription;
    this.doc = doc;
    this.secret = secret;
    this.defaultDescription = defaultDescription;
    this.shownAs = shownAs;
  }

  private static <T> Setting<T> of(String env, String type, Function<String, T> parser) {
    return new Setting<>(env, type, parser, null, true, v -> true, "", "", false, null, null);
  }

  public static Setting<String> string(String env) {
    return of(env, "string", s -> s);
  }

  public static Setting<Integer> integer(String env) {
    return of(env, "int", s -> Integer.valueOf(s.trim()));
  }

  public static Setting<Long> longInt(String env) {
    return of(env, "long", s -> Long.valueOf(s.trim()));
  }

  public static Setting<Double> decimal(String env) {
    return of(env, "double", s -> Double.valueOf(s.trim()));
  }

  public static Setting<Boolean> bool(String env) {
    return of(env, "boolean", Setting::parseBoolean);
  }

  /** Durations as {@code 250ms}, {@code 30s}, {@code 5m}, {@code 2h} or ISO-8601 ({@code PT30S}). */
  public static Setting<Duration> duration(String env) {
    return of(env, "duration", DurationParser::parse);
  }

  /** Comma-separated list; blanks are dropped. */
  public static Setting<List<String>> list(String env) {
    return of(env, "list", s -> Arrays.stream(s.split(",")).map(String::trim).filter(p -> !p.isEmpty()).toList());
  }

  /**
   * A list split only where {@code separator} matches, for items that may hold commas and spaces
   * themselves (a password): each item is trimmed at its ends, blank ones dropped, the rest kept as typed.
   */
  public static Setting<List<String>> list(String env, Pattern separator) {
    return of(env, "list", s -> separator.splitAsStream(s).map(String::trim).filter(p -> !p.isEmpty()).toList());
  }

  public Setting<T> defaultValue(T value) {
    return new Setting<>(env, type, parser, Objects.requireNonNull(value), false, validator,
        validDescription, doc, secret, defaultDescription, shownAs);
  }

  /** Optional with no default: {@link Config#get} returns null when unset. */
  public Setting<T> optional() {
    return new Setting<>(env, type, parser, null, false, validator,
        validDescription, doc, secret, defaultDescription, shownAs);
  }

  /**
   * {@code check} may also throw an IllegalArgumentException whose message says which part of the
   * value is wrong; it is added to the error (so it must never quote a secret).
   */
  public Setting<T> validate(Predicate<T> check, String description) {
    return new Setting<>(env, type, parser, defaultValue, required, check,
        description, doc, secret, defaultDescription, shownAs);
  }

  public Setting<T> doc(String text) {
    return new Setting<>(env, type, parser, defaultValue, required, validator,
        validDescription, text, secret, defaultDescription, shownAs);
  }

  /** Never printed: values show as ****** in errors and dumps. */
  public Setting<T> secret() {
    return new Setting<>(env, type, parser, defaultValue, required, validator,
        validDescription, doc, true, defaultDescription, shownAs);
  }

  /**
   * How start-up logs and validation errors show a value that is not secret as a whole but may
   * carry one inside (e.g. a URL's user info or token). A raw value that does not parse is then
   * not shown at all, since only a parsed value can be masked.
   */
  public Setting<T> shownAs(Function<T, String> display) {
    return new Setting<>(env, type, parser, defaultValue, required, validator, validDescription, doc, secret,
        defaultDescription, Objects.requireNonNull(display));
  }

  /**
   * How documentation shows a default computed on the machine it runs on (e.g. "number of cores"),
   * where printing the value would describe only the machine that generated the docs.
   */
  public Setting<T> describeDefault(String text) {
    return new Setting<>(env, type, parser, defaultValue, required, validator,
        validDescription, doc, secret, text, shownAs);
  }

  public static Predicate<Integer> port() {
    return p -> p >= 0 && p <= 65535;
  }

  public String env() {
    return env;
  }

  public String type() {
    return type;
  }

  public T defaultValue() {
    return defaultValue;
  }

  public boolean required() {
    return required;
  }

  public String doc() {
    return doc;
  }

  public String validDescription() {
    return validDescription;
  }

  public boolean isSecret() {
    return secret;
  }

  /** The default as an operator would type it (durations as 5s, lists comma-separated), or how it is chosen. */
  public String documentedDefault() {
    if (required) {
      return "**required**";
    }
    if (defaultDescription != null) {
      return defaultDescription;
    }
    if (defaultValue == null) {
      return "(unset)";
    }
    if (secret) {
      return "******";
    }
    String typed = defaultValue instanceof Duration d ? DurationParser.format(d)
        : defaultValue instanceof List<?> l ? String.join(",", l.stream().map(String::valueOf).toList())
        : String.valueOf(defaultValue);
    return typed.isEmpty() ? "(empty)" : "`" + typed + "`";
  }

  /** Parses and validates a raw value; the message of the exception is meant for an operator. */
  T parse(String raw) {
    T value;
    try {
      value = parser.apply(raw);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("not a valid " + type + ": " + shown(raw)
          + (e.getMessage() == null || secret || shownAs != null ? "" : " (" + e.getMessage() + ")"));
    }
    check(value);
    return value;
  }

  void check(T value) {
    String detail = "";
    boolean valid;
    try {
      valid = validator.test(value);
    } catch (IllegalArgumentException e) {
      valid = false;
      detail = e.getMessage() == null ? "" : " (" + e.getMessage() + ")";
    }
    if (!valid) {
      throw new IllegalArgumentException(shownValue(value) + " is invalid: must be " + validDescription + detail);
    }
  }

  /** The value as logs may print it: masked when secret, through {@link #shownAs} when given. */
  String display(T value) {
    return secret ? "******" : shownAs == null || value == null ? String.valueOf(value) : shownAs.apply(value);
  }

  private String shownValue(T value) {
    return secret ? display(value) : "'" + display(value) + "'";
  }

  String shown(String raw) {
    return secret || shownAs != null ? "******" : "'" + raw + "'";
  }

  private static Boolean parseBoolean(String s) {
    return switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
      case "true", "1", "yes", "on" -> true;
      case "false", "0", "no", "off" -> false;
      default -> throw new IllegalArgumentException("expected true/false");
    };
  }

  @Override
  public String toString() {
    return env;
  }
}
