package io.visualsearch.deploy;

import static io.visualsearch.deploy.YamlFiles.list;
import static io.visualsearch.deploy.YamlFiles.map;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The bucket lifecycle rule the deployment docs offer expires the answered searches, which no
 * service deletes, and nothing a service reads back: an expired catalog snapshot republishes a
 * whole catalog, an expired index file fails its checksum.
 */
class BucketLifecycleTest {

  @Test
  void theRuleExpiresAnsweredSearchesAndNoPrefixTheServicesReadBack() throws IOException {
    // The layout as object-store's README documents it: | `prefix/...` | written by | holds |
    Set<String> layout = new TreeSet<>();
    Matcher row = Pattern.compile("(?m)^\\| `([a-z-]+/)[^`]*` \\| [a-z-]+ \\|")
        .matcher(Files.readString(YamlFiles.ROOT.resolve("object-store/README.md")));
    while (row.find()) {
      layout.add(row.group(1));
    }
    assertTrue(layout.containsAll(Set.of("catalog/", "images/", "indexes/", "responses/")), layout.toString());

    Set<String> expired = new TreeSet<>();
    for (Object r : list(YamlFiles.loadAll(YamlFiles.DEPLOY.resolve("s3-lifecycle.json")).get(0).get("Rules"),
        "Rules")) {
      Map<String, Object> rule = map(r, "rule");
      if (rule.containsKey("Expiration") && "Enabled".equals(rule.get("Status"))) {
        String prefix = String.valueOf(map(rule.get("Filter"), "Filter").get("Prefix"));
        assertFalse(prefix.isEmpty() || prefix.equals("null"), "a rule expiring the whole bucket: " + rule);
        for (String kept : layout) {
          if (!kept.equals("responses/")) {
            assertFalse(kept.startsWith(prefix) || prefix.startsWith(kept), prefix + " would expire " + kept);
          }
        }
        expired.add(prefix);
      }
    }
    assertEquals(Set.of("responses/"), expired);
  }
}
