package io.visualsearch.catalogdownloader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import org.junit.jupiter.api.Test;

class FeedLocationTest {

  @Test
  void aSpecNamesTheTenantAndTheFeedsUrl() {
    FeedLocation http = FeedLocation.parse(" shop-1 = https://feeds.example.com/merchant.tsv.gz ");
    assertEquals("shop-1", http.tenant());
    assertEquals(URI.create("https://feeds.example.com/merchant.tsv.gz"), http.uri());
    assertEquals("catalogs", FeedLocation.parse("b=s3://catalogs/b/feed.xml").uri().getHost());
    assertEquals("/srv/feeds/c.csv", FeedLocation.parse("c=file:///srv/feeds/c.csv").uri().getPath());
  }

  @Test
  void anUnusableSpecIsRefusedWithTheReason() {
    assertTrue(message("https://example.com/feed.tsv").contains("expected tenant=url"));
    assertTrue(message("a=ftp://example.com/feed.tsv").contains("use http(s)://, s3:// or file://"));
    assertTrue(message("a=/srv/feeds/a.tsv").contains("unsupported feed URL"), "a bare path has no scheme");
    assertTrue(message("a=s3://catalogs").contains("s3://bucket/key"), "a bucket without a key");
    assertTrue(message("Shop A=https://example.com/feed.tsv").contains("invalid tenant name"));
    assertFalse(FeedLocation.isValid("a=ftp://example.com/feed.tsv"));
    assertTrue(FeedLocation.isValid("a=https://example.com/feed.tsv"));
  }

  private static String message(String spec) {
    return assertThrows(IllegalArgumentException.class, () -> FeedLocation.parse(spec)).getMessage();
  }
}
