package io.visualsearch.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigDefTest {

  static final Setting<String> BOOTSTRAP = Setting.string("KAFKA_BOOTSTRAP_SERVERS").doc("Kafka brokers.");
  static final Setting<Integer> PORT = Setting.integer("OPS_PORT").defaultValue(8081)
      .validate(Setting.port(), "a TCP port (0-65535)").doc("Ops HTTP port.");
  static final Setting<Duration> POLL = Setting.duration("KAFKA_POLL_TIMEOUT").defaultValue(Duration.ofMillis(500));
  static final Setting<List<String>> ALLOW = Setting.list("FETCH_ALLOW").defaultValue(List.of());
  static final Setting<String> KEY = Setting.string("S3_SECRET_KEY").secret().optional();

  final ConfigDef def = new ConfigDef().define(BOOTSTRAP, PORT, POLL, ALLOW, KEY);

  @Test
  void defaultsApplyAndValuesParse() {
    Config c = def.parse(Map.of("KAFKA_BOOTSTRAP_SERVERS", "b:9092", "KAFKA_POLL_TIMEOUT", "2s",
        "FETCH_ALLOW", "127.0.0.1, ::1,,"));
    assertEquals("b:9092", c.get(BOOTSTRAP));
    assertEquals(8081, c.get(PORT));
    assertEquals(Duration.ofSeconds(2), c.get(POLL));
    assertEquals(List.of("127.0.0.1", "::1"), c.get(ALLOW));
    assertNull(c.get(KEY));
  }

  @Test
  void everyProblemIsReportedAtOnceWithTheVariableName() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> def.parse(Map.of("OPS_PORT", "70000", "KAFKA_POLL_TIMEOUT", "soon")));
    assertEquals(3, e.problems().size(), e.getMessage());
    assertTrue(e.getMessage().contains("KAFKA_BOOTSTRAP_SERVERS is required but not set: Kafka brokers."));
    assertTrue(e.getMessage().contains("OPS_PORT: '70000' is invalid: must be a TCP port (0-65535)"));
    assertTrue(e.getMessage().contains("KAFKA_POLL_TIMEOUT: not a valid duration"));
  }

  /** A check that throws says which part is wrong, beside what the whole value must be. */
  @Test
  void aCheckThatSaysWhatIsWrongHasItsWordsInTheError() {
    Setting<List<String>> keys = Setting.list("KEYS").secret().validate(l -> {
      if (l.size() > 1) {
        throw new IllegalArgumentException("entry #2 repeats entry #1");
      }
      return true;
    }, "a list of distinct keys");
    ConfigException e = assertThrows(ConfigException.class,
        () -> new ConfigDef().define(keys).parse(Map.of("KEYS", "a-secret,a-secret")));
    assertTrue(e.getMessage().contains("KEYS: ****** is invalid: must be a list of distinct keys (entry #2 repeats"
        + " entry #1)"), e.getMessage());
    assertFalse(e.getMessage().contains("a-secret"), e.getMessage());
  }

  @Test
  void secretsNeverAppearInErrorsOrDumps() {
    Setting<Integer> pin = Setting.integer("PIN").secret();
    ConfigException e = assertThrows(ConfigException.class,
        () -> new ConfigDef().define(pin).parse(Map.of("PIN", "hunter2")));
    assertFalse(e.getMessage().contains("hunter2"));
    Config c = def.parse(Map.of("KAFKA_BOOTSTRAP_SERVERS", "x", "S3_SECRET_KEY", "hunter2"));
    assertEquals("hunter2", c.get(KEY));
    assertFalse(c.toString().contains("hunter2"));
  }

  @Test
  void aValueCarryingACredentialIsShownThroughItsDisplayInDumpsAndErrors() {
    Setting<List<String>> feeds = Setting.list("FEEDS").defaultValue(List.of())
        .validate(l -> l.size() < 2, "at most one feed")
        .shownAs(l -> String.join(",", l.stream().map(f -> f.replaceAll("token=[^,&]*", "token=***")).toList()));
    ConfigDef withFeeds = new ConfigDef().define(feeds);
    Config c = withFeeds.parse(Map.of("FEEDS", "https://a/f?token=hunter2"));
    assertEquals(List.of("https://a/f?token=hunter2"), c.get(feeds));
    assertEquals("{FEEDS=https://a/f?token=***}", c.toString());
    ConfigException e = assertThrows(ConfigException.class,
        () -> withFeeds.parse(Map.of("FEEDS", "https://a/f?token=hunter2,https://b/f?token=swordfish")));
    assertTrue(e.getMessage().contains("FEEDS: 'https://a/f?token=***,https://b/f?token=***' is invalid"),
        e.getMessage());
    assertFalse(e.getMessage().contains("hunter2") || e.getMessage().contains("swordfish"), e.getMessage());
  }

  @Test
  void aValueThatDoesNotParseIsNotShownWhenOnlyItsDisplayMayBe() {
    Setting<Integer> port = Setting.integer("PORT_WITH_TOKEN").shownAs(p -> "port " + p);
    ConfigException e = assertThrows(ConfigException.class,
        () -> new ConfigDef().define(port).parse(Map.of("PORT_WITH_TOKEN", "hunter2")));
    assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
    assertTrue(e.getMessage().contains("PORT_WITH_TOKEN: not a valid int"), e.getMessage());
  }

  @Test
  void durationsAcceptShortAndIsoForms() {
    assertEquals(Duration.ofMillis(250), DurationParser.parse("250ms"));
    assertEquals(Duration.ofMinutes(5), DurationParser.parse("5m"));
    assertEquals(Duration.ofSeconds(30), DurationParser.parse("PT30S"));
    assertThrows(IllegalArgumentException.class, () -> DurationParser.parse("5 parsecs"));
    assertThrows(IllegalArgumentException.class, () -> DurationParser.parse("PT-1S"));
    assertThrows(IllegalArgumentException.class, () -> DurationParser.parse("-PT1S"));
    assertThrows(IllegalArgumentException.class, () -> DurationParser.parse("-5s"));
  }

  @Test
  void readingAnUndefinedSettingIsAProgrammingError() {
    Config c = def.parse(Map.of("KAFKA_BOOTSTRAP_SERVERS", "x"));
    assertThrows(IllegalArgumentException.class, () -> c.get(Setting.string("OTHER")));
  }

  @Test
  void overridesAreValidatedToo() {
    Config c = def.parse(Map.of("KAFKA_BOOTSTRAP_SERVERS", "x"));
    assertEquals(9, c.with(PORT, 9).get(PORT));
    assertThrows(IllegalArgumentException.class, () -> c.with(PORT, -1));
  }

  @Test
  void durationsAreDocumentedAsOperatorsTypeThemAndReadBackTheSame() {
    for (Duration d : List.of(Duration.ZERO, Duration.ofMillis(2), Duration.ofMillis(1500), Duration.ofSeconds(90),
        Duration.ofMinutes(15), Duration.ofHours(36), Duration.ofDays(7), Duration.ofNanos(500))) {
      assertEquals(d, DurationParser.parse(DurationParser.format(d)), DurationParser.format(d));
    }
    assertEquals("2ms", DurationParser.format(Duration.ofMillis(2)));
    assertEquals("1500ms", DurationParser.format(Duration.ofMillis(1500)));
    assertEquals("90s", DurationParser.format(Duration.ofSeconds(90)));
    assertEquals("15m", DurationParser.format(Duration.ofMinutes(15)));
    assertEquals("36h", DurationParser.format(Duration.ofHours(36)));
    assertEquals("7d", DurationParser.format(Duration.ofDays(7)));
  }

  @Test
  void aListWithItsOwnSeparatorKeepsEachItemAsTypedButForItsEnds() {
    Setting<List<String>> pairs = Setting.list("PAIRS", java.util.regex.Pattern.compile(";(?=[a-z]+=)"))
        .defaultValue(List.of());
    Config c = new ConfigDef().define(pairs).parse(Map.of("PAIRS", "  ;a=1; 2,, 3 ;;b=x ; ;c=y"));
    assertEquals(List.of("a=1; 2,, 3 ;", "b=x ;", "c=y"), c.get(pairs), "blank items dropped, the rest kept");
    assertEquals("list", pairs.type());
  }

  @Test
  void documentedDefaultsAreWhatAnOperatorWouldType() {
    assertEquals("`5m`", Setting.duration("A").defaultValue(Duration.ofMinutes(5)).documentedDefault());
    assertEquals("`a=1,b=2`", Setting.list("A").defaultValue(List.of("a=1", "b=2")).documentedDefault());
    assertEquals("(empty)", Setting.list("A").defaultValue(List.of()).documentedDefault());
    assertEquals("(unset)", Setting.string("A").optional().documentedDefault());
    assertEquals("**required**", Setting.string("A").documentedDefault());
    assertEquals("******", Setting.string("A").defaultValue("hunter2").secret().documentedDefault());
    // A default computed on this machine is described, not printed: docs generated here would lie elsewhere.
    assertEquals("number of cores", Setting.integer("A").defaultValue(Runtime.getRuntime().availableProcessors())
        .describeDefault("number of cores").documentedDefault());
  }

  @Test
  void markdownTableListsEverySetting() {
    String table = def.markdownTable();
    assertTrue(table.contains("| `KAFKA_BOOTSTRAP_SERVERS` | string | **required** | Kafka brokers. |"), table);
    assertTrue(table.contains("| `OPS_PORT` | int | `8081` | Ops HTTP port. Must be a TCP port (0-65535). |"), table);
  }
}
