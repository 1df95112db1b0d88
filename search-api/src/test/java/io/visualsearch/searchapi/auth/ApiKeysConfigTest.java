package io.visualsearch.searchapi.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.visualsearch.runtime.ExitCode;
import io.visualsearch.runtime.ServiceMain;
import io.visualsearch.searchapi.SearchApiService;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A key search-api refuses is a configuration error, found before the service connects anywhere. */
class ApiKeysConfigTest {

  private static ExitCode startWith(String keys) {
    // Nothing listens on port 1: the start must stop on the keys before any client is built.
    return ServiceMain.run(SearchApiService.NAME, SearchApiService.definition(), Map.of(
        "KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1", "S3_BUCKET", "bucket", "S3_ENDPOINT", "http://127.0.0.1:1",
        "SEARCH_API_KEYS", keys), (config, host) -> SearchApiService.wire(config, host));
  }

  @Test
  void aKeyShorterThanSixteenCharactersStopsTheStartWithAConfigurationError() {
    assertEquals(ExitCode.CONFIG_ERROR, startWith("acme:secret123"));
  }

  @Test
  void oneKeyGivenToTwoTenantsStopsTheStartWithAConfigurationError() {
    assertEquals(ExitCode.CONFIG_ERROR, startWith("acme:0123456789abcdef,globex:0123456789abcdef"));
  }
}
