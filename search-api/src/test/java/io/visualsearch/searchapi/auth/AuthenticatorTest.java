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
  void oneKeyGivenToTwoTenantsIsRefusedAtStartNamingTheTenantsNotTheKey() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ApiKeys.parse(
        List.of("acme:shared-key-0123456789abcdef", "globex:other-key-0123456789abcdef",
            "initech: shared-key-0123456789abcdef")));
    assertTrue(e.getMessage().contains("acme") && e.getMessage().contains("initech"), e.getMessage());
    assertFalse(e.getMessage().contains("shared-key"), e.getMessage());
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
