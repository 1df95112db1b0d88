package io.visualsearch.searchapi.similar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class SimilarItemsFileTest {

  private final ObjectMapper json = new ObjectMapper();

  private String problemOf(String file) throws Exception {
    return json.readValue(file, SimilarItemsFile.class).problem();
  }

  @Test
  void aFileWithoutItsVersionOrWithAnItemNamingNoProductIsUnusable() throws Exception {
    assertEquals("results[1] names no sku", problemOf(
        "{\"index_version\":\"v1\",\"results\":[{\"sku\":\"a\",\"score\":0.9},{\"score\":0.8}]}"));
    assertEquals("results[0] names no sku", problemOf("{\"index_version\":\"v1\",\"results\":[null]}"));
    assertEquals("it names no index_version", problemOf("{\"results\":[{\"sku\":\"a\",\"score\":0.9}]}"));
    assertNull(problemOf("{\"index_version\":\"v1\",\"results\":[{\"sku\":\"a\",\"score\":0.9}]}"));
    assertNull(problemOf("{\"index_version\":\"v1\"}"), "no results: nothing similar, as written for a lone product");
  }
}
