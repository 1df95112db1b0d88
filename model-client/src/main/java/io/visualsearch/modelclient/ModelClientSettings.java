package io.visualsearch.modelclient;

import io.visualsearch.config.ConfigDef;
import io.visualsearch.config.Setting;
import java.time.Duration;

/** Where the model server is and which model, signature and tensors to use. */
public final class ModelClientSettings {

  public static final Setting<String> TARGET = Setting.string("MODEL_SERVER_TARGET").defaultValue("127.0.0.1:8500")
      .doc("gRPC address of the TensorFlow-Serving-compatible model server (host:port); a name resolving to several"
          + " addresses (dns:///model-server-headless:8500) spreads calls over all of them, round-robin.");
  public static final Setting<Boolean> TLS = Setting.bool("MODEL_SERVER_TLS").defaultValue(false)
      .doc("Call the model server over TLS, verifying its certificate and host name; false: plaintext.");
  public static final Setting<String> TLS_CA_FILE = Setting.string("MODEL_SERVER_TLS_CA_FILE").optional()
      .doc("PEM file of the CA certificates that sign the model server's certificate, read at start; unset: the"
          + " JVM's default trust store. Only with MODEL_SERVER_TLS=true.");
  public static final Setting<String> MODEL = Setting.string("MODEL_NAME").defaultValue("default")
      .doc("Served model name.");
  public static final Setting<String> SIGNATURE = Setting.string("MODEL_SIGNATURE").defaultValue("serving_default")
      .doc("Signature that maps images to embeddings.");
  public static final Setting<String> INPUT = Setting.string("MODEL_INPUT").defaultValue("images")
      .doc("Input tensor name of the signature: uint8 [N,H,W,3].");
  public static final Setting<String> OUTPUT = Setting.string("MODEL_OUTPUT").defaultValue("embedding")
      .doc("Output tensor name of the signature: float [N,D].");
  public static final Setting<Integer> IMAGE_SIZE = Setting.integer("MODEL_IMAGE_SIZE").defaultValue(224)
      .validate(s -> s >= 32 && s <= 1024, "between 32 and 1024")
      .doc("Images larger than this are resized to this square size before they are sent, so a batch is one tensor.");
  public static final Setting<Boolean> SEND_SMALL_AS_IS = Setting.bool("MODEL_SEND_SMALL_IMAGES_AS_IS")
      .defaultValue(true)
      .doc("Images no larger than MODEL_IMAGE_SIZE go out at their own size and the signature resizes them"
          + " (the default model does); false resizes every image, for signatures that need a fixed size."
          + " Changing it in the embeddings-generator changes the vectors, and the catalog is re-embedded; search-api"
          + " embeds queries as the searched index says and uses its own value only for indexes that do not say.");
  public static final Setting<Duration> DEADLINE = Setting.duration("MODEL_DEADLINE").defaultValue(Duration.ofSeconds(10))
      .validate(d -> d.toMillis() >= 100, "at least 100ms")
      .doc("Deadline of one Predict call.");
  public static final Setting<Duration> PROBE_AFTER_FAILURE = Setting.duration("MODEL_PROBE_AFTER_FAILURE")
      .defaultValue(Duration.ofSeconds(5)).validate(d -> d.toMillis() >= 100, "at least 100ms")
      .doc("How long after a failed call the readiness check asks the model server itself whether it is back (its"
          + " model's status and signatures, within 2 s), and again as often while it is not: only a call clears a"
          + " failure, and an instance unready because of one is sent none.");
  public static final Setting<Integer> MAX_MESSAGE_BYTES = Setting.integer("MODEL_MAX_MESSAGE_BYTES")
      .defaultValue(64 * 1024 * 1024).validate(n -> n > 0, "positive").doc("Largest gRPC message accepted.");

  private ModelClientSettings() {}

  public static ConfigDef definition() {
    return new ConfigDef().define(TARGET, TLS, TLS_CA_FILE, MODEL, SIGNATURE, INPUT, OUTPUT, IMAGE_SIZE, SEND_SMALL_AS_IS, DEADLINE,
        PROBE_AFTER_FAILURE, MAX_MESSAGE_BYTES);
  }
}
