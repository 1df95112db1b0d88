package io.visualsearch.objectstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;

/** Half a key pair is a configuration error found while wiring, naming the setting that is missing. */
class CredentialSettingsTest {

  private static Config config(String accessKey, String secretKey) {
    Map<String, String> env = new HashMap<>(Map.of("S3_BUCKET", "visual-search", "S3_ENDPOINT", "http://127.0.0.1:9"));
    if (accessKey != null) {
      env.put("S3_ACCESS_KEY", accessKey);
    }
    if (secretKey != null) {
      env.put("S3_SECRET_KEY", secretKey);
    }
    return ObjectStoreSettings.definition().parse(env);
  }

  @Test
  void anAccessKeyWithoutItsSecretIsRefusedNamingTheSecret() {
    for (String secret : new String[] {null, "  "}) {
      ConfigException e = assertThrows(ConfigException.class, () -> ObjectStore.fromConfig(config("AKIA", secret), false));
      assertEquals(List.of("S3_SECRET_KEY is required when S3_ACCESS_KEY is set (unset both for the AWS default"
          + " credential chain)"), e.problems());
      assertThrows(ConfigException.class, () -> ObjectStore.client(config("AKIA", secret)));
    }
  }

  @Test
  void aSecretWithoutItsAccessKeyIsRefusedNamingTheAccessKey() {
    ConfigException e = assertThrows(ConfigException.class, () -> ObjectStore.fromConfig(config(null, "s3cret"), false));
    assertEquals(List.of("S3_ACCESS_KEY is required when S3_SECRET_KEY is set (unset both for the AWS default"
        + " credential chain)"), e.problems());
    assertThrows(ConfigException.class, () -> ObjectStore.client(config("", "s3cret")));
  }

  @Test
  void aWholePairOrNeitherIsAccepted() {
    ObjectStore.fromConfig(config("AKIA", "s3cret"), false);
    ObjectStore.fromConfig(config(null, null), false);
    try (S3Client client = ObjectStore.client(config("AKIA", "s3cret"))) {
      assertEquals("s3", client.serviceName());
    }
  }
}
