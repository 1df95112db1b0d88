package io.visualsearch.responseconsumer;

import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ScriptedS3;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * An object store that answers 403 to every call after its start: a failure the store itself
 * classes as not retriable (an expired credential, a bucket policy changed under us).
 */
final class DeniedStore {

  private DeniedStore() {}

  static ObjectStore started() {
    return ScriptedS3.started("denied", (client, method, args) -> {
      throw S3Exception.builder().statusCode(403).message("Access Denied").build();
    });
  }
}
