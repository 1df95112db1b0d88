package io.visualsearch.embeddings;

import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.StoredObject;
import java.util.Optional;

/**
 * The followed version as a small object in the deployment's bucket
 * ({@code embeddings-generator/<group base>/followed-version.properties}), replaced with
 * If-Match on the ETag read.
 */
final class ObjectStoreFollowedVersions implements FollowedVersionStore {

  private final ObjectStore store;
  private final String key;

  ObjectStoreFollowedVersions(ObjectStore store, String groupBase) {
    this.store = store;
    this.key = key(groupBase);
  }

  static String key(String groupBase) {
    return "embeddings-generator/" + groupBase + "/followed-version.properties";
  }

  @Override
  public Read read() {
    Optional<StoredObject> o = store.get(key);
    return o.map(s -> new Read(FollowedVersion.decode(s.bytes()), s.etag())).orElse(new Read(null, null));
  }

  @Override
  public boolean replace(FollowedVersion next, Read previous) {
    return store.replaceIfUnchanged(key, next.encode(), "text/plain", previous.tag());
  }
}
