package io.visualsearch.objectstore;

import io.visualsearch.config.ConfigDef;
import io.visualsearch.config.Setting;
import java.time.Duration;

/** How a service reaches its S3-compatible bucket. */
public final class ObjectStoreSettings {

  public static final Setting<String> ENDPOINT = Setting.string("S3_ENDPOINT").optional()
      .doc("Endpoint URL of an S3-compatible store, e.g. http://127.0.0.1:9000; unset means AWS S3.");
  public static final Setting<String> REGION = Setting.string("S3_REGION").defaultValue("us-east-1")
      .doc("Signing region.");
  public static final Setting<String> BUCKET = Setting.string("S3_BUCKET")
      .validate(b -> b.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"), "a valid S3 bucket name")
      .doc("Bucket of this deployment; the services write under catalog/, image-state/, images/, embeddings/,"
          + " embeddings-generator/, indexes/, responses/ and similar/.");
  public static final Setting<String> ACCESS_KEY = Setting.string("S3_ACCESS_KEY").optional()
      .doc("Access key id; unset uses the AWS default credential chain.");
  public static final Setting<String> SECRET_KEY = Setting.string("S3_SECRET_KEY").optional().secret()
      .doc("Secret access key, with S3_ACCESS_KEY.");
  public static final Setting<Boolean> PATH_STYLE = Setting.bool("S3_PATH_STYLE").defaultValue(true)
      .doc("Path-style addressing (http://host/bucket/key), which S3-compatible servers expect.");

  public static final Setting<Duration> CALL_TIMEOUT = Setting.duration("S3_CALL_TIMEOUT")
      .defaultValue(Duration.ofSeconds(60)).validate(d -> d.toMillis() > 0, "positive")
      .doc("Limit of one call on a whole object in memory (get, put, head, list, delete), retries included.");
  public static final Setting<Duration> ATTEMPT_TIMEOUT = Setting.duration("S3_ATTEMPT_TIMEOUT")
      .defaultValue(Duration.ofSeconds(20)).validate(d -> d.toMillis() > 0, "positive")
      .doc("Limit of one HTTP attempt of such a call.");
  public static final Setting<Duration> TRANSFER_TIMEOUT = Setting.duration("S3_TRANSFER_TIMEOUT")
      .defaultValue(Duration.ofHours(1)).validate(d -> d.toMillis() > 0, "positive")
      .doc("Limit of one streamed file transfer (a shard or its exact vectors, up or down), retries included; a"
          + " server that stops sending is cut off sooner by the HTTP client's read timeout.");

  private ObjectStoreSettings() {}

  public static ConfigDef definition() {
    return new ConfigDef().define(ENDPOINT, REGION, BUCKET, ACCESS_KEY, SECRET_KEY, PATH_STYLE, CALL_TIMEOUT,
        ATTEMPT_TIMEOUT, TRANSFER_TIMEOUT);
  }
}
