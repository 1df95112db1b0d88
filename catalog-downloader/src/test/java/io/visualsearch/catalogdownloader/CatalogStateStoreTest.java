package io.visualsearch.catalogdownloader;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Reading the stored feed validators written by another version of the downloader, or damaged. */
class CatalogStateStoreTest {

  @Test
  void validatorsWithAFieldANewerVersionAddedStillRead() {
    byte[] newer = """
        {"uri":"https://feeds.acme.example/catalog.csv","etag":"\\"v7\\"","last_modified":null,"content_sha256":"ab"}
        """.getBytes(StandardCharsets.UTF_8);
    assertEquals(new SourceState("https://feeds.acme.example/catalog.csv", "\"v7\"", null, 0),
        CatalogStateStore.parseSource("acme", newer));
  }

  /** Parsed without an error, yet naming no source: every sync failed on it, and none rewrote it. */
  @Test
  void validatorsNamingNoSourceCountAsNone() {
    for (String empty : new String[] {"null", "{}", "{\"etag\":\"\\\"v7\\\"\"}"}) {
      assertEquals(SourceState.NONE, CatalogStateStore.parseSource("acme", empty.getBytes(StandardCharsets.UTF_8)),
          empty);
    }
  }

  @Test
  void unreadableValidatorsCountAsNoneSoTheNextDownloadIsUnconditional() {
    assertEquals(SourceState.NONE, CatalogStateStore.parseSource("acme", "{\"uri\": ".getBytes(StandardCharsets.UTF_8)));
  }
}
