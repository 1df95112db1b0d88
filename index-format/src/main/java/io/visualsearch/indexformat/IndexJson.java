package io.visualsearch.indexformat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;

/** Reads and writes manifests and pointers; unknown fields are ignored for forward compatibility. */
public final class IndexJson {

  private final ObjectMapper mapper = new ObjectMapper()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
      .configure(SerializationFeature.INDENT_OUTPUT, true);

  public byte[] write(Object value) {
    try {
      return mapper.writeValueAsBytes(value);
    } catch (IOException e) {
      throw new IllegalStateException("cannot serialise " + value.getClass().getSimpleName(), e);
    }
  }

  public IndexManifest manifest(byte[] json) throws CorruptIndexException {
    IndexManifest m = read(json, IndexManifest.class);
    if (m.format() != IndexManifest.FORMAT) {
      throw new CorruptIndexException("unsupported manifest format " + m.format());
    }
    if (m.shards() == null || m.dimension() <= 0 || m.tenant() == null || m.version() == null) {
      throw new CorruptIndexException("manifest lacks shards, dimension, tenant or version");
    }
    return m;
  }

  public CurrentPointer pointer(byte[] json) throws CorruptIndexException {
    return read(json, CurrentPointer.class);
  }

  private <T> T read(byte[] json, Class<T> type) throws CorruptIndexException {
    try {
      return mapper.readValue(json, type);
    } catch (IOException e) {
      throw new CorruptIndexException("unreadable " + type.getSimpleName() + ": " + e.getMessage());
    }
  }
}
