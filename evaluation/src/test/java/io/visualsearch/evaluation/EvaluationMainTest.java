package io.visualsearch.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.samplecatalog.FashionMnist;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code eval} does when a requested model is missing or fails, on a tiny slice of the protocol. */
class EvaluationMainTest {

  @TempDir Path dir;

  private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
  private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();

  /** A model base as a fresh build ships it: version 1 only. */
  private Path baseWithVersionOne(byte[] savedModel) throws Exception {
    Path base = dir.resolve("models/default");
    Files.createDirectories(base.resolve("1"));
    Files.write(base.resolve("1/saved_model.pb"), savedModel);
    return base;
  }

  private int eval(Path base, String models) throws Exception {
    String fashionMnist = System.getProperty("evaluation.fashionMnist", "");
    return EvaluationMain.run(new String[] {"--models", models, "--model-base", base.toString(),
        "--gallery", "50", "--queries", "20", "--exact", "5",
        "--out", dir.resolve("out").toString(), "--cache", dir.resolve("cache").toString(),
        "--data", fashionMnist.isBlank() ? FashionMnist.DEBIAN_DIR.toString() : fashionMnist},
        new PrintStream(stdout, true, StandardCharsets.UTF_8), new PrintStream(stderr, true, StandardCharsets.UTF_8));
  }

  @Test
  void aRequestedFinetunedModelThatDoesNotExistIsRefusedBeforeAnyModelIsEmbedded() throws Exception {
    int code = eval(baseWithVersionOne(new byte[0]), "raw,finetuned");

    assertEquals(EvaluationMain.BAD_OPTIONS, code);
    String err = stderr.toString(StandardCharsets.UTF_8);
    assertTrue(err.contains("no fine-tuned version above 1"), err);
    assertFalse(Files.exists(dir.resolve("cache")), "nothing was embedded, raw included");
    assertFalse(Files.exists(dir.resolve("out/report.md")));
  }

  @Test
  void aModelFailingAfterOthersWereMeasuredStillLeavesTheirReportAndLines() throws Exception {
    // version 1's saved_model.pb is there (the check passes) but is no model: loading it fails
    int code = eval(baseWithVersionOne("not a SavedModel".getBytes(StandardCharsets.UTF_8)), "raw,v1");

    assertEquals(EvaluationMain.MODEL_FAILED, code);
    String out = stdout.toString(StandardCharsets.UTF_8);
    assertTrue(out.contains("model=raw mAP="), out);
    assertFalse(out.contains("model=v1 "), out);
    String report = Files.readString(dir.resolve("out/report.md"));
    assertTrue(report.contains("raw"), report);
    assertTrue(stderr.toString(StandardCharsets.UTF_8).contains("model=v1 failed"), stderr.toString(StandardCharsets.UTF_8));
  }

  @Test
  void theDefaultSetLeavesOutAMissingFinetunedWithAWarningButANamedOneIsAnError() throws Exception {
    ModelRegistry registry = new ModelRegistry(baseWithVersionOne(new byte[0]), 1, OptionalLong.empty());
    PrintStream err = new PrintStream(stderr, true, StandardCharsets.UTF_8);

    assertEquals(List.of("raw", "mixed5", "mixed7"), EvaluationMain.available(ModelRegistry.DEFAULT_MODELS, true, registry, err));
    assertTrue(stderr.toString(StandardCharsets.UTF_8).contains("leaving out finetuned"), stderr.toString(StandardCharsets.UTF_8));

    IllegalArgumentException named = assertThrows(IllegalArgumentException.class,
        () -> EvaluationMain.available(ModelRegistry.DEFAULT_MODELS, false, registry, err));
    assertTrue(named.getMessage().contains("no fine-tuned version above 1"), named.getMessage());
    IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
        () -> EvaluationMain.available(List.of("raw", "v7", "mixed6"), false, registry, err));
    assertTrue(unknown.getMessage().contains("no saved_model.pb") && unknown.getMessage().contains("unknown model 'mixed6'"),
        unknown.getMessage());
  }
}
