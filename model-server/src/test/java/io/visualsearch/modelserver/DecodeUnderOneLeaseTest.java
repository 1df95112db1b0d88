package io.visualsearch.modelserver;

import static io.visualsearch.modelserver.ModelServerTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.visualsearch.proto.tfserving.ModelSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DataType;

/**
 * A front end that needs the signature to decode (REST's JSON) decodes for the version it leased,
 * and the request runs on that same version, even when a new one is swapped in meanwhile and the
 * old one retired: the retired version's bundle stays open until the request's run is over.
 */
class DecodeUnderOneLeaseTest {

  @TempDir
  Path base;

  @Test
  void aRequestDecodedForOneVersionRunsOnItThoughAnotherReplacedItMeanwhile() throws Exception {
    Path v1 = TestSavedModels.exportVersion(base, "default", 1);
    byte[] px = TestSavedModels.image(7, 16, 16);
    float[] v1Embedding;
    try (ReferenceModel ref = new ReferenceModel(v1)) {
      v1Embedding = ref.embed(px, 16, 16);
    }
    // One served version, polled never: the test swaps by calling scan() itself.
    try (ModelManager models = new ModelManager("default", base, OptionalLong.empty(), Duration.ofHours(1), 1);
        DynamicBatcher batcher = new DynamicBatcher(1, Duration.ZERO, 1, 10, false,
            (key, inputs) -> key.version().run(key.signature(), inputs, key.outputs()))) {
      models.start();
      batcher.start();
      ModelServingService service = new ModelServingService(models, batcher, 1);
      ModelServingService.Prediction p = service.predict(ModelSpec.newBuilder().setName("default").build(),
          signature -> {
            try {
              TestSavedModels.exportVersion(base, "default", 2);
            } catch (java.io.IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
            models.scan();
            assertEquals(OptionalLong.of(2), models.currentVersion(), "version 2 is served now, version 1 retired");
            return Map.of("image", HostTensor.numeric(DataType.DT_UINT8, new long[] {1, 16, 16, 3}, px));
          }, List.of()).get(30, TimeUnit.SECONDS);
      assertEquals(1, p.modelSpec().getVersion().getValue(), "answered by the version it was decoded for");
      // Version 2's weights are negated: its embedding would be the negation of this one.
      assertClose(v1Embedding, floats(p.outputs().get("embedding")), 1e-5f);
      // The next request runs on version 2.
      ModelServingService.Prediction next = service.predict(ModelSpec.newBuilder().setName("default").build(),
          signature -> Map.of("image", HostTensor.numeric(DataType.DT_UINT8, new long[] {1, 16, 16, 3}, px)),
          List.of()).get(30, TimeUnit.SECONDS);
      assertEquals(2, next.modelSpec().getVersion().getValue());
    }
  }

  private static float[] floats(HostTensor t) {
    ByteBuffer b = ByteBuffer.wrap(t.data()).order(ByteOrder.LITTLE_ENDIAN);
    float[] v = new float[(int) t.elementCount()];
    for (int i = 0; i < v.length; i++) {
      v[i] = b.getFloat();
    }
    return v;
  }
}
