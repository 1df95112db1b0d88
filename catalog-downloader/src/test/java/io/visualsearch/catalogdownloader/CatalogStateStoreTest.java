package io.visualsearch.catalogdownloader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Reading the stored feed validators written by another version of the downloader, or damaged. */
class CatalogStateStoreTest {

  @Test
  void validatorsWithAFieldANewerVersionAddedStillRead() {
    String sha = SourceState.sha256("https://feeds.acme.example/catalog.csv");
    byte[] newer = ("{\"source_sha256\":\"" + sha + "\",\"etag\":\"\\\"v7\\\"\",\"last_modified\":null,"
        + "\"content_sha256\":\"ab\"}").getBytes(StandardCharsets.UTF_8);
    assertEquals(new SourceState(sha, "\"v7\"", null, 0), CatalogStateStore.parseSource("acme", newer));
  }

  /**
   * The feed's URL may carry the retailer's token or a presigned signature; the file lives in the
   * bucket every service reads, so it holds the URL's hash, and the URL only in memory.
   */
  @Test
  void storedValidatorsHoldTheFeedsUrlOnlyAsAHash() throws Exception {
    String feed = "https://user:pw@feeds.acme.example/catalog.csv?token=s3cr3t";
    SourceState state = SourceState.of(feed, "\"v7\"", null);
    String json = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(state);
    assertFalse(json.contains("s3cr3t") || json.contains("pw@") || json.contains("feeds.acme"), json);
    SourceState read = CatalogStateStore.parseSource("acme", json.getBytes(StandardCharsets.UTF_8));
    assertTrue(read.validFor(feed));
    assertFalse(read.validFor("https://user:pw@feeds.acme.example/catalog.csv?token=rotated"));
  }

  /** A file an earlier release wrote with the URL itself: one unconditional download, then hashed. */
  @Test
  void validatorsWrittenWithTheUrlItselfCountAsNone() {
    byte[] earlier = "{\"uri\":\"https://feeds.acme.example/catalog.csv\",\"etag\":\"\\\"v7\\\"\"}"
        .getBytes(StandardCharsets.UTF_8);
    assertEquals(SourceState.NONE, CatalogStateStore.parseSource("acme", earlier));
    assertTrue(CatalogStateStore.namesItsUrl(earlier), "and is deleted when read, the URL with it");
    assertFalse(CatalogStateStore.namesItsUrl(("{\"source_sha256\":\"" + SourceState.sha256("https://x.example/f")
        + "\"}").getBytes(StandardCharsets.UTF_8)));
  }

  /** A password is no part of which file the validators are for, and its hash could be guessed at. */
  @Test
  void theStoredHashLeavesTheUserInfoOut() {
    assertEquals(SourceState.sha256("https://feeds.acme.example/f.tsv?token=t"),
        SourceState.sha256("https://feeds:pw@feeds.acme.example/f.tsv?token=t"));
    assertFalse(SourceState.sha256("https://feeds.acme.example/f.tsv?token=t")
        .equals(SourceState.sha256("https://feeds.acme.example/f.tsv?token=u")), "the rest of the URL counts");
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
