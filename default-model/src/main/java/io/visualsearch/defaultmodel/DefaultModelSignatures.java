package io.visualsearch.defaultmodel;

import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Sum;
import org.tensorflow.op.image.ResizeBilinear;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TUint8;

/**
 * The signatures of the default model. Every one takes {@code images}, uint8 RGB
 * {@code [batch, height, width, 3]} of any size, and resizes inside the graph, so clients send
 * decoded pixels and never need to know the network's input size or normalisation.
 *
 * <ul>
 *   <li>{@value #SERVING_DEFAULT}: {@code embedding}, float32 {@code [batch, 768]}, the L2-normalised
 *       global average of InceptionV3's {@code mixed5} at 224 px — the product's image embedding.
 *   <li>{@value #MIXED7}: {@code embedding} {@code [batch, 768]}, the same from {@code mixed7} at 299 px.
 *   <li>{@value #MIXED10}: {@code embedding} {@code [batch, 2048]}, from {@code mixed10} at 299 px.
 *   <li>{@value #CLASSIFY}: {@code probabilities} {@code [batch, 5]}, nsfwjs's classifier exactly as
 *       nsfwjs runs it (x/255, align-corners resize to 299), classes in {@link #CLASSES} order.
 * </ul>
 */
public final class DefaultModelSignatures {

  public static final String SERVING_DEFAULT = Signature.DEFAULT_KEY;
  public static final String MIXED7 = "mixed7";
  public static final String MIXED10 = "mixed10";
  public static final String CLASSIFY = "classify";
  public static final String INPUT = "images";
  public static final String EMBEDDING = "embedding";
  public static final String PROBABILITIES = "probabilities";
  public static final String PREDICT_METHOD = "tensorflow/serving/predict";

  /** nsfwjs's class labels, in the order of the {@code probabilities} columns. */
  public static final List<String> CLASSES = List.of("Drawing", "Hentai", "Neutral", "Porn", "Sexy");

  /** Input size of the embedding cut served by default. */
  public static final int EMBEDDING_SIZE = 224;
  /** InceptionV3's native input size; the classifier head only works at this size. */
  public static final int NATIVE_SIZE = 299;

  private final Ops tf;
  private final KerasTopology topology;
  private final KerasGraphBuilder builder;

  DefaultModelSignatures(Ops tf, KerasModelArtifacts model) {
    this.tf = tf;
    this.topology = KerasTopology.from(model.modelTopology());
    this.builder = new KerasGraphBuilder(tf, topology, new DequantisedWeights(tf, model));
  }

  /** Builds every signature's ops into the graph and returns the signatures to export. */
  List<Signature> build() {
    Placeholder<TUint8> embedImages = images("serving_default");
    Operand<TFloat32> mixed5 =
        builder.build("mixed5_224", inceptionInput(embedImages, EMBEDDING_SIZE), List.of("mixed5")).get("mixed5");

    // mixed7 and mixed10 share one input and one tower: a call computes only the cut it asks for.
    Placeholder<TUint8> deepImages = images("deep_features");
    Map<String, Operand<TFloat32>> deep =
        builder.build("deep_299", inceptionInput(deepImages, NATIVE_SIZE), List.of("mixed7", "mixed10"));

    Placeholder<TUint8> classifyImages = images("classify");
    String classifier = topology.outputLayers().get(0);
    Operand<TFloat32> probabilities =
        builder.build("classify_299", nsfwjsInput(classifyImages), List.of(classifier)).get(classifier);

    return List.of(
        embeddingSignature(SERVING_DEFAULT, embedImages, mixed5),
        embeddingSignature(MIXED7, deepImages, deep.get("mixed7")),
        embeddingSignature(MIXED10, deepImages, deep.get("mixed10")),
        Signature.builder(CLASSIFY)
            .methodName(PREDICT_METHOD)
            .input(INPUT, classifyImages)
            .output(PROBABILITIES, tf.withSubScope(CLASSIFY).withName(PROBABILITIES).identity(probabilities))
            .build());
  }

  private Placeholder<TUint8> images(String scope) {
    return tf.withSubScope(scope)
        .withName(INPUT)
        .placeholder(TUint8.class, Placeholder.shape(Shape.of(-1, -1, -1, 3)));
  }

  /** Keras InceptionV3 preprocessing: resize (half-pixel centres, as tf.image.resize), x/127.5 - 1. */
  private Operand<TFloat32> inceptionInput(Operand<TUint8> images, int size) {
    Ops ops = tf.withSubScope("preprocess_" + size);
    Operand<TFloat32> resized =
        ops.image.resizeBilinear(images, ops.constant(new int[] {size, size}), ResizeBilinear.halfPixelCenters(true));
    return ops.math.sub(ops.math.div(resized, ops.constant(127.5f)), ops.constant(1f));
  }

  /** nsfwjs preprocessing: x/255 first, then (if needed) an align-corners resize to 299. */
  private Operand<TFloat32> nsfwjsInput(Operand<TUint8> images) {
    Ops ops = tf.withSubScope("preprocess_nsfwjs");
    Operand<TFloat32> scaled = ops.math.div(ops.dtypes.cast(images, TFloat32.class), ops.constant(255f));
    // At 299 x 299 an align-corners resize is the identity, so this matches nsfwjs's "resize only
    // if the size differs" without a conditional in the graph.
    return ops.image.resizeBilinear(
        scaled, ops.constant(new int[] {NATIVE_SIZE, NATIVE_SIZE}), ResizeBilinear.alignCorners(true));
  }

  /** Global average pooling, then L2 normalisation, so cosine similarity is a dot product. */
  private Signature embeddingSignature(String key, Placeholder<TUint8> images, Operand<TFloat32> features) {
    Ops ops = tf.withSubScope(key);
    Operand<TFloat32> pooled = ops.math.mean(features, ops.constant(new int[] {1, 2}));
    Operand<TFloat32> sumOfSquares =
        ops.sum(ops.math.square(pooled), ops.constant(1), Sum.keepDims(true));
    Operand<TFloat32> embedding =
        ops.withName(EMBEDDING)
            .math.mul(pooled, ops.math.rsqrt(ops.math.maximum(sumOfSquares, ops.constant(1e-12f))));
    return Signature.builder(key).methodName(PREDICT_METHOD).input(INPUT, images).output(EMBEDDING, embedding).build();
  }
}
