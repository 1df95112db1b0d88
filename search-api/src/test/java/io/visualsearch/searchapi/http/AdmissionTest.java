package io.visualsearch.searchapi.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.visualsearch.searchapi.ApiException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class AdmissionTest {

  @Test
  void oneTenantHoldsAtMostItsShareAndTheOthersAreStillAdmitted() {
    Admission admission = new Admission(4, 0, 2, Duration.ofMillis(10));
    Admission.Permit a1 = admission.enter("acme");
    Admission.Permit a2 = admission.enter("acme");
    ApiException refused = assertThrows(ApiException.class, () -> admission.enter("acme"));
    assertEquals(503, refused.status());
    assertEquals("tenant_overloaded", refused.code());
    Admission.Permit g1 = admission.enter("globex");
    Admission.Permit g2 = admission.enter("globex");
    a1.close();
    a1.close(); // once only: a second close must not give acme a third place
    Admission.Permit a3 = admission.enter("acme");
    assertEquals("tenant_overloaded", assertThrows(ApiException.class, () -> admission.enter("acme")).code());
    a2.close();
    a3.close();
    g1.close();
    g2.close();
  }

  @Test
  void aTenantRefusedByTheSharedLimitGivesItsPlaceBack() {
    Admission admission = new Admission(2, 0, 2, Duration.ofMillis(10));
    Admission.Permit g1 = admission.enter("globex");
    Admission.Permit g2 = admission.enter("globex");
    assertEquals("overloaded", assertThrows(ApiException.class, () -> admission.enter("acme")).code());
    assertEquals("overloaded", assertThrows(ApiException.class, () -> admission.enter("acme")).code());
    g1.close();
    g2.close();
    // Both refusals gave acme's places back: it can hold its two.
    try (Admission.Permit a1 = admission.enter("acme"); Admission.Permit a2 = admission.enter("acme")) {
      assertEquals("tenant_overloaded", assertThrows(ApiException.class, () -> admission.enter("acme")).code());
    }
  }
}
