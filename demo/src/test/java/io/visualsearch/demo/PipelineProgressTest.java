package io.visualsearch.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class PipelineProgressTest {

  final ObjectMapper json = new ObjectMapper();

  @Test
  void sumsEachStageOverItsInstancesInPipelineOrder() throws Exception {
    String page = """
        {"instances": [
          {"service": "index-builder", "instance": "ib-1", "activity_total": 280},
          {"service": "embeddings-generator", "instance": "eg-1", "activity_total": 200},
          {"service": "embeddings-generator", "instance": "eg-2", "activity_total": 112},
          {"service": "search-api", "instance": "api-1", "activity_total": 9000},
          {"service": "image-indexer", "instance": "ii-1", "activity_total": 500}
        ]}""";
    assertEquals("records handled: image-indexer 500, embeddings-generator 312, index-builder 280",
        PipelineProgress.format(PipelineProgress.handled(json.readTree(page))));
  }

  @Test
  void saysNothingUntilEveryStageHasReported() throws Exception {
    String page = """
        {"instances": [{"service": "image-indexer", "instance": "ii-1", "activity_total": 40}]}""";
    assertEquals("", PipelineProgress.format(PipelineProgress.handled(json.readTree(page))));
  }
}
