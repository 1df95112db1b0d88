package io.visualsearch.catalogfeed;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A feed that can be read more than once, byte-identical each time (a spooled download, a
 * file). {@link CatalogDiffer} reads it twice so the whole feed never sits in memory.
 */
@FunctionalInterface
public interface FeedSource {

  InputStream open() throws IOException;

  static FeedSource of(Path file) {
    return () -> Files.newInputStream(file);
  }

  static FeedSource of(byte[] bytes) {
    return () -> new ByteArrayInputStream(bytes);
  }
}
