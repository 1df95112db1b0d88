package io.visualsearch.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;

/** The fields of a Zipkin v2 span a test checks. */
record ZipkinSpan(String traceId, String id, String parentId, String name, String service) {

  static List<ZipkinSpan> parseAll(String json) throws Exception {
    List<ZipkinSpan> out = new ArrayList<>();
    for (JsonNode n : new ObjectMapper().readTree(json)) {
      out.add(new ZipkinSpan(n.path("traceId").asText(), n.path("id").asText(),
          n.path("parentId").asText(null), n.path("name").asText(), n.path("localEndpoint").path("serviceName").asText()));
    }
    return out;
  }
}
