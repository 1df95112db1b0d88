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
    // An unescaped '@' in the password leaves no host: refused at start, not on every sync.
    String noHost = message("a=https://feeds:p@ss@feeds.example.com/f.tsv");
    assertTrue(noHost.contains("has no host: percent-encode"), noHost);
    assertFalse(noHost.contains("p@ss"), noHost);
    assertTrue(FeedLocation.isValid("a=https://feeds:p%40ss@feeds.example.com/f.tsv"));
  }

  private static String message(String spec) {
    return assertThrows(IllegalArgumentException.class, () -> FeedLocation.parse(spec)).getMessage();
  }

  @Test
  void aFeedIsShownWithoutItsCredentials() {
    assertEquals("https://feeds.example.com:8443/f.tsv?token=***&X-Amz-Signature=***&flag",
        FeedLocation.parse("a=https://user:pw@feeds.example.com:8443/f.tsv?token=s3cr3t&X-Amz-Signature=abc&flag")
            .display());
    assertEquals("s3://catalogs/b/feed.xml", FeedLocation.parse("b=s3://catalogs/b/feed.xml").display());
    assertEquals("file:/srv/feeds/c.csv", FeedLocation.parse("c=file:///srv/feeds/c.csv").display());
    assertFalse(message("a=ftp://user:pw@example.com/feed.tsv?token=s3cr3t").contains("s3cr3t"));
  }
}
