package io.visualsearch.searchapi.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.searchapi.ApiException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuthenticatorTest {

  final ApiKeys keys = ApiKeys.parse(List.of("acme:acme-key-0123456789abcdef", "globex:globex-key-0123456789ab"));
  final Authenticator auth = new Authenticator(keys);

  @Test
  void aKeyDecidesTheTenant() {
    assertEquals("acme", auth.tenant("Bearer acme-key-0123456789abcdef", null));
    assertEquals("globex", auth.tenant("bearer   globex-key-0123456789ab ", "globex"));
  }

  @Test
  void missingOrMalformedCredentialsAre401() {
    for (String header : new String[] {null, "", "Bearer", "Bearer   ", "Basic YWNtZTpr", "acme-key-0123456789abcdef"}) {
      ApiException e = assertThrows(ApiException.class, () -> auth.tenant(header, null), String.valueOf(header));
      assertEquals(401, e.status());
      assertEquals("missing_api_key", e.code());
    }
  }

  @Test
  void anUnknownOrAlmostRightKeyIs401() {
    for (String key : new String[] {"acme-key-0123456789abcdeX", "acme-key-0123456789abcde", "x"}) {
      ApiException e = assertThrows(ApiException.class, () -> auth.tenant("Bearer " + key, null));
      assertEquals(401, e.status());
      assertEquals("invalid_api_key", e.code());
    }
  }

  @Test
  void namingAnotherTenantIs403() {
    ApiException e = assertThrows(ApiException.class, () -> auth.tenant("Bearer acme-key-0123456789abcdef", "globex"));
    assertEquals(403, e.status());
    assertEquals("wrong_tenant", e.code());
  }

  @Test
  void shortKeysAndBadTenantNamesAreRefusedAtStartWithoutEchoingTheKey() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ApiKeys.parse(List.of("acme:short-secret")));
    assertFalse(e.getMessage().contains("short-secret"));
    assertThrows(IllegalArgumentException.class, () -> ApiKeys.parse(List.of("Not A Tenant:0123456789abcdef0123")));
    assertThrows(IllegalArgumentException.class, () -> ApiKeys.parse(List.of("no-colon")));
  }

  @Test
  void oneKeyGivenToTwoTenantsIsRefusedAtStartNamingTheEntriesNotTheKey() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ApiKeys.parse(
        List.of("acme:shared-key-0123456789abcdef", "globex:other-key-0123456789abcdef",
            "initech: shared-key-0123456789abcdef")));
    assertTrue(e.getMessage().contains("#1 and #3"), e.getMessage());
    assertFalse(e.getMessage().contains("shared-key"), e.getMessage());
    // Two entries written key-first, each "key" a long tenant name: their tenant parts are the keys.
    IllegalArgumentException keyFirst = assertThrows(IllegalArgumentException.class, () -> ApiKeys.parse(
        List.of("5e1f0c2a9b7d4e36:acme-storefront-eu", "a0b1c2d3e4f56789:acme-storefront-eu")));
    assertFalse(keyFirst.getMessage().contains("5e1f0c2a9b7d4e36"), keyFirst.getMessage());
    assertFalse(keyFirst.getMessage().contains("a0b1c2d3e4f56789"), keyFirst.getMessage());
  }

  @Test
  void anEntryWrittenKeyFirstIsRefusedWithoutQuotingTheKey() {
    // A lower-case hex key passes for a tenant name, and the tenant is then a short key.
    String hexKey = "9c4e1a7f03d25b68e0f1";
    IllegalArgumentException shortKey = assertThrows(IllegalArgumentException.class,
        () -> ApiKeys.parse(List.of("globex:globex-key-0123456789", hexKey + ":acme")));
    assertFalse(shortKey.getMessage().contains(hexKey), shortKey.getMessage());
    assertTrue(shortKey.getMessage().contains("entry #2"), shortKey.getMessage());
    // Any other key is not a tenant name.
    String mixedKey = "Zk8_Qw2+Lm5/Xp9=";
    IllegalArgumentException notATenant = assertThrows(IllegalArgumentException.class,
        () -> ApiKeys.parse(List.of(mixedKey + ":acme")));
    assertFalse(notATenant.getMessage().contains(mixedKey), notATenant.getMessage());
    assertTrue(notATenant.getMessage().contains("entry #1"), notATenant.getMessage());
  }

  @Test
  void aRepeatedPairAndSeveralKeysOfOneTenantAreAccepted() {
    ApiKeys k = ApiKeys.parse(List.of("acme:acme-key-0123456789abcdef", "acme:acme-key-0123456789abcdef",
        "acme:acme-next-key-0123456789ab"));
    assertEquals("acme", k.tenantOf("acme-key-0123456789abcdef").orElseThrow());
    assertEquals("acme", k.tenantOf("acme-next-key-0123456789ab").orElseThrow());
  }

  @Test
  void readsAKeyFileWithComments(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("keys");
    Files.writeString(f, "# tenants\n\nacme:file-key-0123456789abcdef\n");
    ApiKeys fromFile = ApiKeys.parse(ApiKeys.readFile(f));
    assertEquals(1, fromFile.size());
    assertTrue(fromFile.tenantOf("file-key-0123456789abcdef").isPresent());
  }
}
