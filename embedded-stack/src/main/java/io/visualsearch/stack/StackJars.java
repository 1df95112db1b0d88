package io.visualsearch.stack;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Properties;

/** Where the build put the published server jars (filtered into stack-jars.properties). */
final class StackJars {

  private final Properties paths = new Properties();

  StackJars() {
    try (InputStream in = StackJars.class.getResourceAsStream("stack-jars.properties")) {
      paths.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  Path s3proxy() {
    return Path.of(paths.getProperty("s3proxy.jar"));
  }

  Path zipkin() {
    return Path.of(paths.getProperty("zipkin.jar"));
  }
}
