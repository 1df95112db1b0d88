package io.visualsearch.modelserver;

import static io.visualsearch.modelserver.ModelServerTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TensorFlow Serving's REST API on an ephemeral port, driven by the JDK's HTTP client. */
class RestApiTest {

  @TempDir
  static Path base;

  static ModelServer server;
  static ReferenceModel reference;
  static final HttpClient http = HttpClient.newHttpClient();
  static final ObjectMapper json = new ObjectMapper();

  @BeforeAll
  static void start() throws Exception {
    reference = new ReferenceModel(TestSavedModels.exportVersion(base, "default", 1));
    server = new ModelServer(ModelServerSettings.from(ModelServerSettings.defaultConfig(base)
        .with(ModelServerSettings.GRPC_PORT, 0).with(ModelServerSettings.REST_PORT, 0)));
    server.start();
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
    if (reference != null) {
      reference.close();
    }
  }

  @Test
  void statusAndMetadataLookLikeTensorFlowServings() throws Exception {
    JsonNode status = get("/v1/models/default", 200);
    JsonNode v = status.get("model_version_status").get(0);
    assertEquals("1", v.get("version").asText());
    assertEquals("AVAILABLE", v.get("state").asText());
    assertEquals("OK", v.get("status").get("error_code").asText());

    assertEquals("AVAILABLE", get("/v1/models/default/versions/1", 200).get("model_version_status").get(0)
        .get("state").asText());

    JsonNode meta = get("/v1/models/default/metadata", 200);
    assertEquals("default", meta.get("model_spec").get("name").asText());
    JsonNode image = meta.get("metadata").get("signature_def").get("signature_def").get("serving_default")
        .get("inputs").get("image");
    assertEquals("DT_UINT8", image.get("dtype").asText());
    assertEquals("-1", image.get("tensor_shape").get("dim").get(0).get("size").asText());
  }

  @Test
  void theStatusOfALabelListsEveryVersionWhilePredictAndMetadataRefuseIt() throws Exception {
    // TensorFlow Serving's status narrows by version only, so a label lists every version.
    JsonNode versions = get("/v1/models/default/labels/stable", 200).get("model_version_status");
    assertEquals(get("/v1/models/default", 200).get("model_version_status"), versions);
    assertEquals("1", versions.get(0).get("version").asText());
    assertTrue(get("/v1/models/other/labels/stable", 404).get("error").asText().contains("'other'"));

    assertTrue(get("/v1/models/default/labels/stable/metadata", 400).get("error").asText().contains("'stable'"));
    ObjectNode rows = json.createObjectNode();
    rows.putArray("instances").add(nested(TestSavedModels.image(11, 6, 5), 6, 5));
    assertTrue(post("/v1/models/default/labels/stable:predict", rows, 400).get("error").asText().contains("'stable'"));
  }

  @Test
  void rowAndColumnarPredictGiveTheModelsEmbeddings() throws Exception {
    byte[] a = TestSavedModels.image(11, 6, 5);
    byte[] b = TestSavedModels.image(12, 6, 5);
    ObjectNode rows = json.createObjectNode();
    ArrayNode instances = rows.putArray("instances");
    instances.add(nested(a, 6, 5));
    instances.add(nested(b, 6, 5));
    JsonNode predictions = post("/v1/models/default:predict", rows, 200).get("predictions");
    assertEquals(2, predictions.size());
    assertClose(reference.embed(a, 6, 5), floats(predictions.get(0)), 1e-5f);
    assertClose(reference.embed(b, 6, 5), floats(predictions.get(1)), 1e-5f);

    ObjectNode columnar = json.createObjectNode();
    columnar.putArray("inputs").add(nested(a, 6, 5));
    JsonNode outputs = post("/v1/models/default/versions/1:predict", columnar, 200).get("outputs");
    assertClose(reference.embed(a, 6, 5), floats(outputs.get(0)), 1e-5f);
  }

  @Test
  void namedInputsStringsAndSignaturesWork() throws Exception {
    ObjectNode req = json.createObjectNode();
    req.put("signature_name", "mixed");
    ObjectNode inputs = req.putObject("inputs");
    inputs.putArray("ids").add(1).add(2);
    ArrayNode labels = inputs.putArray("labels");
    labels.add("shoe");
    labels.addObject().put("b64", Base64.getEncoder().encodeToString(new byte[] {(byte) 0xff}));
    ArrayNode counts = inputs.putArray("counts");
    counts.addArray().add(1).add(2);
    counts.addArray().add(3).add(4);
    JsonNode out = post("/v1/models/default:predict", req, 200).get("outputs");
    assertEquals("[2,3]", out.get("ids_plus_one").toString());
    assertEquals("[3,7]", out.get("count_sum").toString());
    assertEquals("shoe", out.get("labels_out").get(0).asText());
    assertEquals("/w==", out.get("labels_out").get(1).get("b64").asText());

    ObjectNode row = json.createObjectNode();
    row.put("signature_name", "mixed");
    ObjectNode instance = row.putArray("instances").addObject();
    instance.put("ids", 5).put("labels", "x");
    instance.putArray("counts").add(1).add(1);
    JsonNode p = post("/v1/models/default:predict", row, 200).get("predictions").get(0);
    assertEquals(6, p.get("ids_plus_one").asLong());
    assertEquals(2, p.get("count_sum").asInt());
  }

  @Test
  void errorsAreJsonWithTheRightStatus() throws Exception {
    assertTrue(get("/v1/models/other", 404).get("error").asText().contains("'other'"));
    assertTrue(get("/v1/models/default/versions/3/metadata", 404).get("error").asText().contains("version 3"));
    ObjectNode wrongType = json.createObjectNode();
    wrongType.putArray("instances").addArray().addArray().addArray().add(0.5).add(1).add(2);
    assertTrue(post("/v1/models/default:predict", wrongType, 400).get("error").asText().contains("integer"));
    ObjectNode ragged = json.createObjectNode();
    ArrayNode img = ragged.putArray("inputs").addArray().addArray();
    img.addArray().add(1).add(2).add(3);
    img.addArray().add(1).add(2);
    assertTrue(post("/v1/models/default:predict", ragged, 400).get("error").asText().contains("rectangular"));
    // Deeper than TensorFlow allows (it aborts the process past 254 dimensions).
    ObjectNode deep = json.createObjectNode();
    ArrayNode level = deep.putArray("inputs");
    for (int i = 0; i < 300; i++) {
      level = level.addArray();
    }
    level.add(1);
    assertTrue(post("/v1/models/default:predict", deep, 400).get("error").asText().contains("254"));
    HttpResponse<String> notJson = http.send(HttpRequest.newBuilder(uri("/v1/models/default:predict"))
        .POST(HttpRequest.BodyPublishers.ofString("{nope")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(400, notJson.statusCode());
    assertTrue(json.readTree(notJson.body()).get("error").asText().contains("JSON"));
  }

  @Test
  void nonFiniteOutputsAreBareNumbersThatTheServerReadsBack() throws Exception {
    // "aliased" doubles x: NaN and the infinities stay what they are.
    HttpResponse<String> r = postRaw("/v1/models/default:predict",
        "{\"signature_name\":\"aliased\",\"inputs\":{\"x\":[NaN,Infinity,-Infinity,1.5]}}");
    assertEquals(200, r.statusCode(), r.body());
    // TensorFlow Serving writes them bare; a quoted "NaN" is a string to Python's json and numpy.
    String doubled = "[NaN,Infinity,-Infinity,3.0]";
    assertTrue(r.body().contains("\"doubled\":" + doubled), r.body());
    HttpResponse<String> back = postRaw("/v1/models/default:predict",
        "{\"signature_name\":\"aliased\",\"inputs\":{\"x\":" + doubled + "}}");
    assertEquals(200, back.statusCode(), back.body());
    assertTrue(back.body().contains("\"twice\":[NaN,Infinity,-Infinity,6.0]"), back.body());
  }

  @Test
  void anUnknownInputNameInAnyInstanceIsRefused() throws Exception {
    // "aliased" takes one input, x, a scalar per instance: without the 'y' this request is fine.
    HttpResponse<String> later = postRaw("/v1/models/default:predict",
        "{\"signature_name\":\"aliased\",\"instances\":[{\"x\":1},{\"x\":2,\"y\":3}]}");
    assertEquals(400, later.statusCode(), later.body());
    assertTrue(json.readTree(later.body()).get("error").asText().startsWith("instance 1: 'y' is not an input"),
        later.body());
    HttpResponse<String> first = postRaw("/v1/models/default:predict",
        "{\"signature_name\":\"aliased\",\"instances\":[{\"x\":[1],\"y\":[3]},{\"x\":[2]}]}");
    assertEquals(400, first.statusCode(), first.body());
    assertTrue(json.readTree(first.body()).get("error").asText().startsWith("instance 0: 'y'"), first.body());
  }

  private static ArrayNode nested(byte[] px, int h, int w) {
    ArrayNode image = json.createArrayNode();
    for (int y = 0; y < h; y++) {
      ArrayNode r = image.addArray();
      for (int x = 0; x < w; x++) {
        ArrayNode c = r.addArray();
        for (int k = 0; k < 3; k++) {
          c.add(px[(y * w + x) * 3 + k] & 0xff);
        }
      }
    }
    return image;
  }

  private static float[] floats(JsonNode list) {
    float[] v = new float[list.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) list.get(i).asDouble();
    }
    return v;
  }

  private static URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.restPort() + path);
  }

  private static JsonNode get(String path, int expectStatus) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri(path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(expectStatus, r.statusCode(), r.body());
    return json.readTree(r.body());
  }

  private static HttpResponse<String> postRaw(String path, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode post(String path, JsonNode body, int expectStatus) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri(path))
        .POST(HttpRequest.BodyPublishers.ofString(json.writeValueAsString(body))).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(expectStatus, r.statusCode(), r.body());
    return json.readTree(r.body());
  }
}
