package io.visualsearch.objectstore;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.internal.WebIdentityCredentialsUtils;

/**
 * IRSA (EKS pod identity) reaches the services through the default credential chain's web
 * identity token provider, which the SDK builds only from the sts module found by reflection: a
 * classpath without it skips the provider and every S3 call fails with no credentials.
 */
class WebIdentityCredentialsTest {

  @Test
  void theDefaultChainCanAssumeAnIrsaRoleWithTheStsModuleOnTheRuntimeClasspath() {
    // The SDK's own lookup (the class it loads by name), so a renamed factory fails here too.
    assertNotNull(WebIdentityCredentialsUtils.factory());
  }
}
