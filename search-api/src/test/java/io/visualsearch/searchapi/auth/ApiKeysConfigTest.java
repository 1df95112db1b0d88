package io.visualsearch.searchapi.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.config.ConfigException;
import io.visualsearch.runtime.ExitCode;
import io.visualsearch.runtime.ServiceMain;
import io.visualsearch.searchapi.SearchApiService;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** A key search-api refuses is a configuration error, found before the service connects anywhere. */
class ApiKeysConfigTest {

  /**
   * How a start with {@code keys} ended, and the configuration error that stopped it, if any: the
   * setting's own check (SEARCH_API_KEYS alone, as deployment checks parse it), else the wiring's
   * (with SEARCH_API_KEYS_FILE's entries).
   */
  private record Start(ExitCode code, ConfigException refusal) {}

  private static Start startWith(String keys) {
    Map<String, String> env = Map.of(
        "KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1", "S3_BUCKET", "bucket", "S3_ENDPOINT", "http://127.0.0.1:1",
        "S3_ACCESS_KEY", "test", "S3_SECRET_KEY", "test-secret", "SEARCH_API_KEYS", keys);
    AtomicReference<ConfigException> refusal = new AtomicReference<>();
    try {
      SearchApiService.definition().parse(env);
    } catch (ConfigException e) {
      refusal.set(e);
    }
    // Nothing listens on port 1: the start must stop on the keys before any client is built.
    ExitCode code = ServiceMain.run(SearchApiService.NAME, SearchApiService.definition(), env, (config, host) -> {
      try {
        SearchApiService.wire(config, host);
      } catch (ConfigException e) {
        refusal.compareAndSet(null, e);
        throw e;
      }
    });
    return new Start(code, refusal.get());
  }

  private static void assertRefusedNamingTheSettingNotTheKey(Start start, String key, String reason) {
    assertEquals(ExitCode.CONFIG_ERROR, start.code());
    assertNotNull(start.refusal(), "the keys, not another setting, stopped the start");
    String message = start.refusal().getMessage();
    assertTrue(message.contains("SEARCH_API_KEYS"), message);
    assertTrue(message.contains(reason), message);
    // The message goes to start-up logs and stderr.
    assertFalse(message.contains(key), message);
  }

  @Test
  void aKeyShorterThanSixteenCharactersStopsTheStartWithAConfigurationError() {
    assertRefusedNamingTheSettingNotTheKey(startWith("acme:secret123"), "secret123",
        "the key of API key entry #1 is shorter than 16 characters");
  }

  @Test
  void oneKeyGivenToTwoTenantsStopsTheStartWithAConfigurationError() {
    assertRefusedNamingTheSettingNotTheKey(startWith("acme:0123456789abcdef,globex:0123456789abcdef"),
        "0123456789abcdef", "API key entries #1 and #2 give two tenants the same key");
  }

  @Test
  void anEntryWrittenKeyFirstIsNamedByItsPositionNotItsText() {
    // A hex key is a valid tenant name, the tenant a short key: neither message may quote the entry.
    String hexKey = "3f9a0c77d2e14b6a9c0d8e7f";
    assertRefusedNamingTheSettingNotTheKey(startWith("globex:fedcba9876543210," + hexKey + ":acme"), hexKey,
        "the key of API key entry #2 is shorter than 16 characters");
    String mixedKey = "Q7x-Kp2vR9mZ4tLw";
    assertRefusedNamingTheSettingNotTheKey(startWith(mixedKey + ":acme"), mixedKey,
        "API key entry #1 does not start with a tenant name");
  }

  @Test
  void theSameEnvironmentWithValidKeysGetsPastConfiguration() {
    // The control: with its keys valid, this environment is not a configuration error, so the
    // refusals above are the keys'. It then fails where it first meets an unreachable endpoint
    // (the object store on port 1).
    Start start = startWith("acme:0123456789abcdef,globex:fedcba9876543210");
    assertNull(start.refusal());
    assertEquals(ExitCode.START_FAILED, start.code());
  }
}
