package io.visualsearch.indexbuilder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.visualsearch.pipeline.PoisonRecordException;
import io.visualsearch.tracing.Tracing;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class EmbeddingIntakeTest {

  private static final ModelKey V1 = new ModelKey("default", 1, "serving_default", "");

  private final Clock clock = Clock.fixed(Instant.EPOCH, ZoneOffset.UTC);
  private final Catalogs catalogs = new Catalogs(4, clock);
  private final Tracing tracing = Tracing.withExporter("test", SpanExporter.composite());
  private final EmbeddingIntake intake = new EmbeddingIntake(new EmbeddingDecoder(List.of("default")), catalogs,
      new RebuildSchedule(Duration.ofSeconds(2), Duration.ofSeconds(10), Duration.ZERO), tracing, clock);

  @AfterEach
  void closeTracing() {
    tracing.close();
  }

  /**
   * A misconfigured generator's 512-d vector, refused live but still the latest record of its
   * product in the compacted topic, replayed before the tenant's correct 768-d ones (partition 1
   * fetched first): the tenant keeps its ten products, and live 512-d vectors stay refused.
   */
  @Test
  void aWrongDimensionReplayedFirstDoesNotFixTheTenantsDimension() throws Exception {
    intake.replay(Records.upsertOn(1, "acme", "bad", 1, 0, 512));
    for (int i = 0; i < 10; i++) {
      intake.replay(Records.upsertOn(0, "acme", "p" + i, 1, i, 768));
    }
    int refused = intake.replayed();

    TenantSnapshot s = catalogs.snapshot("acme").orElseThrow();
    assertEquals(10, s.vectorsOf(V1).size());
    assertTrue(s.products().stream().allMatch(p -> p.vector().length == 768));
    assertEquals(Map.of(V1, 768), s.dimensions());
    assertEquals(1, refused, "the one 512-d product");

    PoisonRecordException e = assertThrows(PoisonRecordException.class,
        () -> intake.handle(Records.upsertOn(1, "acme", "bad2", 1, 1, 512), null));
    assertEquals(TenantCatalog.WRONG_DIMENSION, e.reason());
    intake.handle(Records.upsertOn(0, "acme", "p10", 1, 10, 768), null);
    assertEquals(11, catalogs.products("acme"));
  }
}
