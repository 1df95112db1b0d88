package io.visualsearch.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.visualsearch.config.ConfigDef;
import io.visualsearch.config.Setting;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every number and duration a service reads says which values it accepts, so a mistake such as a
 * 0s deadline or poll interval stops the service at start (exit 2, naming the variable) instead of
 * a tight loop or a call that can never succeed at run time.
 */
class SettingsValidationTest {

  static final Set<String> BOUNDED_TYPES = Set.of("int", "long", "double", "duration");

  static List<Map.Entry<String, ConfigDef>> modules() {
    return ReadmeEnvTablesTest.modules();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("modules")
  void everyNumberAndDurationIsValidated(Map.Entry<String, ConfigDef> module) {
    List<String> unchecked = module.getValue().settings().stream()
        .filter(s -> BOUNDED_TYPES.contains(s.type()) && s.validDescription().isEmpty())
        .map(Setting::env).toList();
    assertEquals(List.of(), unchecked, module.getKey() + ": settings that accept any value of their type");
  }
}
