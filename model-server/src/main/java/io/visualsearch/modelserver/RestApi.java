package io.visualsearch.modelserver;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Int64Value;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.visualsearch.proto.tfserving.GetModelMetadataRequest;
import io.visualsearch.proto.tfserving.GetModelMetadataResponse;
import io.visualsearch.proto.tfserving.GetModelStatusRequest;
import io.visualsearch.proto.tfserving.ModelSpec;
import io.visualsearch.proto.tfserving.SignatureDefMap;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;

/**
 * TensorFlow Serving's REST API ({@code /v1/models/...}) as plain request-to-response functions,
 * independent of the HTTP server that carries them: status, metadata and predict in both the row
 * ("instances" → "predictions") and columnar ("inputs" → "outputs") formats.
 */
final class RestApi {

  private static final Logger log = LoggerFactory.getLogger(RestApi.class);

  /**
   * A status code and JSON body; {@code modelFault} when the model's own run failed the request,
   * which its status alone does not tell (see {@link ServingException#isModelFault}).
   */
  record Reply(int status, JsonNode body, boolean modelFault) {

    Reply(int status, JsonNode body) {
      this(status, body, false);
    }
  }

  private static final Pattern ROUTE = Pattern.compile(
      "/v1/models/([^/:]+)(?:/versions/(\\d{1,18})|/labels/([^/:]+))?(/metadata|:predict|:classify|:regress)?");

  private final ModelServingService service;
  private final JsonTensorCodec tensors = new JsonTensorCodec();
  private final ObjectMapper json = JsonMapper.builder()
      .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS) // TF Serving accepts NaN and Infinity
      // ... and writes them bare, as Python's json and numpy read them. Jackson's default, the
      // string "NaN", is a string to every reader, this server's own input decoder included.
      .disable(JsonWriteFeature.WRITE_NAN_AS_STRINGS)
      .build();
  private final JsonFormat.Printer protoJson = JsonFormat.printer().preservingProtoFieldNames()
      .includingDefaultValueFields().omittingInsignificantWhitespace();

  RestApi(ModelServingService service) {
    this.service = service;
  }

  ObjectMapper mapper() {
    return json;
  }

  /**
   * The route of a path as a template without the model name, version or label, e.g.
   * {@code /v1/models/{model}:predict}, for span names and metrics (bounded cardinality).
   */
  static String route(String path) {
    Matcher m = ROUTE.matcher(path);
    if (!m.matches()) {
      return "unknown";
    }
    String version = m.group(2) != null ? "/versions/{version}" : m.group(3) != null ? "/labels/{label}" : "";
    return "/v1/models/{model}" + version + (m.group(4) == null ? "" : m.group(4));
  }

  Reply handle(String method, String path, byte[] body) {
    try {
      Matcher m = ROUTE.matcher(path);
      if (!m.matches()) {
        return error(404, "no such endpoint: " + path + " (try /v1/models/<name>[/versions/<n>][/metadata|:predict])");
      }
      ModelSpec.Builder spec = ModelSpec.newBuilder().setName(m.group(1));
      if (m.group(2) != null) {
        spec.setVersion(Int64Value.of(Long.parseLong(m.group(2))));
      } else if (m.group(3) != null) {
        spec.setVersionLabel(m.group(3));
      }
      String action = m.group(4);
      if (action == null || action.equals("/metadata")) {
        if (!method.equals("GET")) {
          return error(405, method + " is not allowed here; use GET");
        }
        return action == null ? status(spec.build()) : metadata(spec.build());
      }
      if (!method.equals("POST")) {
        return error(405, method + " is not allowed here; use POST");
      }
      if (!action.equals(":predict")) {
        return error(400, action.substring(1) + " is not supported by this server; use :predict");
      }
      return predict(spec, body);
    } catch (ServingException e) {
      if (e.isLogged()) {
        log.error("REST request {} {} failed inside the server", method, path, e);
      }
      return new Reply(e.reason().httpStatus(), error(e.reason().httpStatus(), e.getMessage()).body(),
          e.isModelFault());
    }
  }

  private Reply status(ModelSpec spec) {
    return new Reply(200, protoTree(service.status(GetModelStatusRequest.newBuilder().setModelSpec(spec).build())));
  }

  private Reply metadata(ModelSpec spec) {
    GetModelMetadataResponse r = service.metadata(GetModelMetadataRequest.newBuilder().setModelSpec(spec)
        .addMetadataField(ModelServingService.SIGNATURE_DEF_FIELD).build());
    SignatureDefMap map;
    try {
      map = r.getMetadataOrThrow(ModelServingService.SIGNATURE_DEF_FIELD).unpack(SignatureDefMap.class);
    } catch (InvalidProtocolBufferException e) {
      throw new ServingException(ServingException.Reason.INTERNAL, "cannot unpack signature metadata", e);
    }
    // TF Serving prints the unpacked map, not an Any with "@type".
    ObjectNode out = json.createObjectNode();
    out.set("model_spec", protoTree(r.getModelSpec()));
    out.putObject("metadata").set(ModelServingService.SIGNATURE_DEF_FIELD, protoTree(map));
    return new Reply(200, out);
  }

  private Reply predict(ModelSpec.Builder spec, byte[] body) {
    JsonNode request;
    try {
      request = json.readTree(body);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      return error(400, "request body is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      return error(400, "cannot read the request body: " + e.getMessage());
    }
    if (request == null || !request.isObject()) {
      return error(400, "request body must be a JSON object with \"instances\" or \"inputs\"");
    }
    JsonNode sigName = request.get("signature_name");
    if (sigName != null && !sigName.isNull()) {
      if (!sigName.isTextual()) {
        return error(400, "signature_name must be a string");
      }
      spec.setSignatureName(sigName.textValue());
    }
    boolean rows = request.has("instances");
    if (rows == request.has("inputs")) {
      return error(400, "send exactly one of \"instances\" (row format) or \"inputs\" (columnar format)");
    }
    ModelSpec s = spec.build();
    ModelServingService.Prediction p;
    try {
      p = service.predict(s, signature -> rows ? rowInputs(request.get("instances"), signature)
          : columnarInputs(request.get("inputs"), signature), List.of()).get();
    } catch (ExecutionException e) {
      Throwable cause = GrpcStatuses.unwrap(e);
      if (cause instanceof ServingException se) {
        throw se;
      }
      throw new ServingException(ServingException.Reason.INTERNAL, "prediction failed: " + cause, cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ServingException.unavailable("interrupted while waiting for the prediction");
    }
    ObjectNode out = json.createObjectNode();
    if (rows) {
      out.set("predictions", predictions(p.outputs()));
    } else if (p.outputs().size() == 1) {
      Map.Entry<String, HostTensor> only = p.outputs().entrySet().iterator().next();
      out.set("outputs", tensors.encode(only.getKey(), only.getValue()));
    } else {
      ObjectNode named = out.putObject("outputs");
      p.outputs().forEach((alias, t) -> named.set(alias, tensors.encode(alias, t)));
    }
    return new Reply(200, out);
  }

  private Map<String, HostTensor> rowInputs(JsonNode instances, SignatureDef signature) {
    if (!instances.isArray() || instances.isEmpty()) {
      throw ServingException.invalid("\"instances\" must be a non-empty list");
    }
    boolean named = instances.get(0).isObject() && !JsonTensorCodec.isBase64Value(instances.get(0));
    Map<String, HostTensor> inputs = new LinkedHashMap<>();
    if (!named) {
      String alias = onlyInput(signature, "instances");
      List<JsonNode> values = new ArrayList<>();
      instances.forEach(values::add);
      inputs.put(alias, tensors.decodeRows(alias, values, signature.getInputsOrThrow(alias).getDtype()));
      return inputs;
    }
    // Every instance, not just the first: a misspelt key in a later one would otherwise be
    // dropped without a word while the same key in the first is refused.
    for (int i = 0; i < instances.size(); i++) {
      checkNoUnknownNames(instances.get(i), signature, "instance " + i + ": ");
    }
    for (String alias : signature.getInputsMap().keySet()) {
      List<JsonNode> values = new ArrayList<>();
      for (JsonNode instance : instances) {
        if (!instance.isObject() || !instance.has(alias)) {
          throw ServingException.invalid("every instance must name input '" + alias + "' (inputs: "
              + signature.getInputsMap().keySet() + ")");
        }
        values.add(instance.get(alias));
      }
      inputs.put(alias, tensors.decodeRows(alias, values, signature.getInputsOrThrow(alias).getDtype()));
    }
    return inputs;
  }

  private Map<String, HostTensor> columnarInputs(JsonNode value, SignatureDef signature) {
    Map<String, HostTensor> inputs = new LinkedHashMap<>();
    if (value.isObject() && !JsonTensorCodec.isBase64Value(value)) {
      checkNoUnknownNames(value, signature, "");
      for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        inputs.put(e.getKey(), tensors.decode(e.getKey(), e.getValue(), signature.getInputsOrThrow(e.getKey()).getDtype()));
      }
      return inputs;
    }
    String alias = onlyInput(signature, "inputs");
    inputs.put(alias, tensors.decode(alias, value, signature.getInputsOrThrow(alias).getDtype()));
    return inputs;
  }

  /** Refuses a key of {@code object} the signature has no input for; {@code where} prefixes the message. */
  private static void checkNoUnknownNames(JsonNode object, SignatureDef signature, String where) {
    for (Iterator<String> it = object.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      if (!signature.getInputsMap().containsKey(name)) {
        throw ServingException.invalid(where + "'" + name + "' is not an input of the signature (inputs: "
            + signature.getInputsMap().keySet() + ")");
      }
    }
  }

  private static String onlyInput(SignatureDef signature, String field) {
    Map<String, TensorInfo> in = signature.getInputsMap();
    if (in.size() != 1) {
      throw ServingException.invalid("the signature takes " + in.size() + " inputs " + in.keySet()
          + "; name them in \"" + field + "\"");
    }
    return in.keySet().iterator().next();
  }

  /**
   * Row format: one entry per row of the outputs; an object per row when there are several
   * outputs. As in TensorFlow Serving, the outputs need only agree with each other on their first
   * dimension, not with the number of instances sent.
   */
  JsonNode predictions(Map<String, HostTensor> outputs) {
    long batch = -1;
    for (Map.Entry<String, HostTensor> e : outputs.entrySet()) {
      if (e.getValue().rank() == 0 || (batch >= 0 && e.getValue().dim(0) != batch)) {
        throw ServingException.invalid("output '" + e.getKey() + "' has shape " + ShapeText.of(e.getValue().shape())
            + ", not one row per instance; use the columnar \"inputs\" format for this signature");
      }
      batch = e.getValue().dim(0);
    }
    ArrayNode list = json.createArrayNode();
    for (long row = 0; row < batch; row++) {
      if (outputs.size() == 1) {
        Map.Entry<String, HostTensor> only = outputs.entrySet().iterator().next();
        list.add(tensors.encodeRow(only.getKey(), only.getValue(), row));
      } else {
        ObjectNode o = list.addObject();
        for (Map.Entry<String, HostTensor> e : outputs.entrySet()) {
          o.set(e.getKey(), tensors.encodeRow(e.getKey(), e.getValue(), row));
        }
      }
    }
    return list;
  }

  private JsonNode protoTree(MessageOrBuilder message) {
    try {
      return json.readTree(protoJson.print(message));
    } catch (IOException e) {
      throw new ServingException(ServingException.Reason.INTERNAL, "cannot render " + message.getClass(), e);
    }
  }

  Reply error(int status, String message) {
    ObjectNode o = json.createObjectNode();
    o.put("error", message);
    return new Reply(status, o);
  }
}
