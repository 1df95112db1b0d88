package io.visualsearch.evaluation;

import io.visualsearch.defaultmodel.DefaultModelSignatures;
import io.visualsearch.defaultmodel.SavedModelVersions;
import io.visualsearch.defaultmodel.WarmupRequestsFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.commons.io.FileUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.types.TFloat32;

/**
 * Publishes a fine-tuned model as a new version next to the one it was trained on: the baseline
 * version's graph is imported unchanged (the frozen backbone that produced the training features,
 * byte for byte), the trained head is added on the {@code mixed5} grid (and, with a pixel branch,
 * on the input resized to the catalog's 28x28 grey, see {@link PixelBranch}) as constants, and
 * {@code serving_default} now returns the head's (optionally blended) L2-normalised
 * {@code embedding} for the same {@code images} input. The baseline's other signatures
 * ({@code mixed7}, {@code mixed10}, {@code classify}) are carried over, and the pretrained
 * embedding stays reachable as signature {@value #PRETRAINED}.
 *
 * <p>As default-model does, the version is written under a dot-prefixed staging name, reloaded and
 * checked, then renamed into place, so a model server polling the base path never loads a partial
 * or broken version.
 */
final class FineTunedModelExporter {

  static final String PRETRAINED = "pretrained";

  private static final Logger log = LoggerFactory.getLogger(FineTunedModelExporter.class);

  /** Checks the freshly written model before it is published; throws to abort the publication. */
  interface SelfCheck {
    void verify(Path stagedVersionDir) throws IOException;
  }

  Path export(Path baselineDir, ProjectionHead head, Path baseDir, long version, SelfCheck check) throws IOException {
    if (version < 1) {
      throw new IllegalArgumentException("TensorFlow Serving versions are positive integers, got " + version);
    }
    Path target = baseDir.resolve(Long.toString(version));
    if (target.normalize().equals(baselineDir.normalize())) {
      throw new IllegalArgumentException("refusing to overwrite the baseline version " + baselineDir);
    }
    Path staging = SavedModelVersions.stagingDir(baseDir, version);
    FileUtils.deleteDirectory(staging.toFile());
    try {
      write(baselineDir, head, staging);
      check.verify(staging);
      if (Files.exists(target)) {
        // Another run published this number while this one trained; its vectors may already be indexed.
        throw new IOException("version " + version + " appeared in " + baseDir + " during training; nothing published");
      }
      SavedModelVersions.publish(staging, target);
    } finally {
      FileUtils.deleteDirectory(staging.toFile());
    }
    log.info("published fine-tuned model version {} at {}", version, target);
    return target;
  }

  private void write(Path baselineDir, ProjectionHead head, Path dir) throws IOException {
    MetaGraphDef baseline;
    try (SavedModelBundle bundle = SavedModelBundle.load(baselineDir.toString(), SavedModelBundle.DEFAULT_TAG)) {
      baseline = bundle.metaGraphDef();
    }
    try (Graph graph = new Graph()) {
      graph.importGraphDef(baseline.getGraphDef());
      BackboneGraph backbone = BackboneGraph.attach(graph, baseline);
      Ops tf = Ops.create(graph).withSubScope("finetuned");
      HeadGraph headGraph = new HeadGraph(tf, HeadGraph.Weights.constants(tf, head), head.hidden(), head.gridInputs(), head.pixels());
      Operand<TFloat32> input = head.pixels() == 0 ? backbone.grid
          : head.gridInputs() == 0 ? PixelBranch.pixels(tf, backbone.images)
          : tf.concat(List.of(backbone.grid, PixelBranch.pixels(tf, backbone.images)), tf.constant(1));
      HeadGraph.Faces projected = headGraph.project(input, 0, 0);
      Operand<TFloat32> embedding = tf.withName(DefaultModelSignatures.EMBEDDING)
          .identity(HeadGraph.compose(tf, backbone.embedding, HeadGraph.shipped(tf, head, projected), head.blend(), head.instanceShare()));

      List<Signature> signatures = new ArrayList<>();
      signatures.add(Signature.builder(DefaultModelSignatures.SERVING_DEFAULT)
          .methodName(DefaultModelSignatures.PREDICT_METHOD)
          .input(DefaultModelSignatures.INPUT, backbone.images)
          .output(DefaultModelSignatures.EMBEDDING, embedding)
          .build());
      signatures.add(Signature.builder(PRETRAINED)
          .methodName(DefaultModelSignatures.PREDICT_METHOD)
          .input(DefaultModelSignatures.INPUT, backbone.images)
          .output(DefaultModelSignatures.EMBEDDING, backbone.embedding)
          .build());
      for (Map.Entry<String, SignatureDef> carried : baseline.getSignatureDefMap().entrySet()) {
        if (!carried.getKey().equals(DefaultModelSignatures.SERVING_DEFAULT) && !carried.getKey().startsWith("__")) {
          signatures.add(carryOver(graph, carried.getKey(), carried.getValue()));
        }
      }
      try (Session session = new Session(graph)) {
        SavedModelBundle.Exporter exporter = SavedModelBundle.exporter(dir.toString());
        for (Signature signature : signatures) {
          exporter.withFunction(SessionFunction.create(signature, session));
        }
        exporter.export();
      }
    }
    SavedModelVersions.rewriteDeterministically(dir.resolve("saved_model.pb"));
    // Every signature keeps the baseline's inputs, so its warm-up requests fit this version too.
    Path warmup = baselineDir.resolve(WarmupRequestsFile.RELATIVE_PATH);
    if (Files.isRegularFile(warmup)) {
      Path copy = dir.resolve(WarmupRequestsFile.RELATIVE_PATH);
      Files.createDirectories(copy.getParent());
      Files.copy(warmup, copy);
    }
  }

  private static Signature carryOver(Graph graph, String key, SignatureDef def) {
    Signature.Builder builder = Signature.builder(key).methodName(def.getMethodName());
    for (Map.Entry<String, TensorInfo> input : def.getInputsMap().entrySet()) {
      builder.input(input.getKey(), tensor(graph, input.getValue().getName()));
    }
    for (Map.Entry<String, TensorInfo> output : def.getOutputsMap().entrySet()) {
      builder.output(output.getKey(), tensor(graph, output.getValue().getName()));
    }
    return builder.build();
  }

  private static Operand<?> tensor(Graph graph, String name) {
    int colon = name.lastIndexOf(':');
    GraphOperation op = graph.operation(colon < 0 ? name : name.substring(0, colon));
    if (op == null) {
      throw new IllegalStateException("imported graph lacks " + name);
    }
    return op.output(colon < 0 ? 0 : Integer.parseInt(name.substring(colon + 1)));
  }
}
