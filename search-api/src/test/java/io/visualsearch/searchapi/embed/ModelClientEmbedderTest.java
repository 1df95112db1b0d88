package io.visualsearch.searchapi.embed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.modelclient.CallerGoneException;
import io.visualsearch.modelclient.ModelRejectedException;
import io.visualsearch.modelclient.ModelUnavailableException;
import io.visualsearch.modelclient.ModelVersionNotServedException;
import io.visualsearch.searchapi.ApiException;
import org.junit.jupiter.api.Test;

/** Whose fault a failed model call was: the health page counts search-api's own faults as errors. */
class ModelClientEmbedderTest {

  private final Exception cause = new RuntimeException("grpc status");

  /**
   * During a rollout every query of a tenant still on the retired version, and every gRPC caller
   * whose deadline passed mid-embedding, counted as search-api's error (FAILING on the health
   * page) and logged a stack trace.
   */
  @Test
  void aRetiredVersionAndAGoneCallerAreNotThisServicesFaults() {
    ApiException mismatch = ModelClientEmbedder.refusal(new ModelVersionNotServedException(3, "v3 retired", cause));
    assertEquals("model_index_mismatch", mismatch.code());
    assertEquals(503, mismatch.status());
    assertFalse(mismatch.isServiceFault());

    ApiException gone = ModelClientEmbedder.refusal(new CallerGoneException("deadline", cause));
    assertEquals("caller_gone", gone.code());
    assertFalse(gone.isServiceFault());
  }

  @Test
  void aModelServerThatIsDownOrRefusesTheImageIsAFault() {
    ApiException down = ModelClientEmbedder.refusal(new ModelUnavailableException("UNAVAILABLE", cause));
    assertEquals("model_unavailable", down.code());
    assertTrue(down.isServiceFault());
    ApiException refused = ModelClientEmbedder.refusal(new ModelRejectedException("INVALID_ARGUMENT", cause));
    assertEquals(502, refused.status());
    assertTrue(refused.isServiceFault());
  }
}
