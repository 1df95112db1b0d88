package io.visualsearch.evaluation;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Operation;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Gradients;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Trains the head on frozen backbone features (and, with a pixel branch, the raw pixels) with
 * TensorFlow Java: a normalised-softmax (proxy) category loss plus an InfoNCE term that pulls a
 * catalog image and its altered "shopper photo" view together and pushes other items (of any
 * category) apart. With an instance face the two losses train two outputs of the shared hidden
 * layer, so the category face can collapse each category toward its proxy while the instance face
 * keeps items apart; without one, both act on the same embedding. Adam with cosine decay. Owns its
 * graph and session.
 */
final class HeadTrainer implements AutoCloseable {

  private static final float BETA1 = 0.9f;
  private static final float BETA2 = 0.999f;
  private static final float EPSILON = 1e-7f;
  private static final int INFERENCE_BATCH = 1024;

  private final HeadConfig config;
  private final int inputs;
  private final float[] mean;
  private final float[] invStd;
  private final Graph graph = new Graph();
  private final Session session;
  private final Placeholder<TFloat32> categoryInput;
  private final Placeholder<TInt32> categoryLabels;
  private final Placeholder<TFloat32> pairClean;
  private final Placeholder<TFloat32> pairView;
  private final Placeholder<TInt32> pairLabels;
  private final Placeholder<TInt32> pairIdentity;
  private final Placeholder<TFloat32> learningRate;
  private final Placeholder<TFloat32> beta1Power;
  private final Placeholder<TFloat32> beta2Power;
  private final Placeholder<TFloat32> inferenceInput;
  private final Operand<TFloat32> inferenceCategory;
  private final Operand<TFloat32> inferenceInstance;
  private final int pixels;
  private final Operand<TFloat32> categoryLoss;
  private final Operand<TFloat32> instanceLoss;
  private final List<Op> updates = new ArrayList<>();
  private final List<Variable<TFloat32>> parameters;
  private long step;

  /** The head's faces for a set of rows; {@code instance} is null without an instance face. */
  record Embedded(Features category, Features instance) {}

  /** A head on grid features only. */
  HeadTrainer(HeadConfig config, int inputs, int categories, float[] mean, float[] invStd) {
    this(config, inputs, 0, categories, mean, invStd);
  }

  /**
   * {@code inputs} columns per row, the last {@code pixels} of them raw pixels (0 = no pixel
   * branch); {@code mean} and {@code invStd} standardise the part-wise L2-normalised rows (see
   * {@link ProjectionHead}).
   */
  HeadTrainer(HeadConfig config, int inputs, int pixels, int categories, float[] mean, float[] invStd) {
    this.config = config;
    this.inputs = inputs;
    this.pixels = pixels;
    this.mean = mean;
    this.invStd = invStd;
    Ops tf = Ops.create(graph);
    Random init = new Random(config.seed());
    Variable<TFloat32> w1 = tf.withName("w1").variable(glorot(tf, init, inputs, config.hidden()));
    Variable<TFloat32> b1 = tf.withName("b1").variable(tf.constant(new float[config.hidden()]));
    Variable<TFloat32> w2 = tf.withName("w2").variable(glorot(tf, init, config.hidden(), config.dim()));
    Variable<TFloat32> b2 = tf.withName("b2").variable(tf.constant(new float[config.dim()]));
    Variable<TFloat32> proxies = tf.withName("proxies").variable(glorot(tf, init, categories, config.dim()));
    boolean twoFaces = config.instanceDim() > 0;
    Variable<TFloat32> wi = twoFaces ? tf.withName("wi").variable(glorot(tf, init, config.hidden(), config.instanceDim())) : null;
    Variable<TFloat32> bi = twoFaces ? tf.withName("bi").variable(tf.constant(new float[config.instanceDim()])) : null;
    parameters = twoFaces ? List.of(w1, b1, w2, b2, wi, bi, proxies) : List.of(w1, b1, w2, b2, proxies);
    HeadGraph head = new HeadGraph(tf, new HeadGraph.Weights(tf.constant(mean), tf.constant(invStd), w1, b1, w2, b2, wi, bi),
        config.hidden(), inputs - pixels, pixels);

    categoryInput = features(tf);
    categoryLabels = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
    pairClean = features(tf);
    pairView = features(tf);
    pairLabels = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
    pairIdentity = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
    learningRate = scalar(tf);
    beta1Power = scalar(tf);
    beta2Power = scalar(tf);

    // Identity turns the variable's reference-typed output into a value: TensorFlow's C gradient
    // builder crashes (SIGSEGV) differentiating Square of a reference-typed tensor directly.
    Operand<TFloat32> unitProxies = HeadGraph.l2Normalise(tf, tf.identity(proxies));
    long seed = config.seed();
    Operand<TFloat32> categoryEmbedding = head.project(categoryInput, config.dropout(), seed + 101).category();
    HeadGraph.Faces cleanFaces = head.project(pairClean, config.dropout(), seed + 202);
    HeadGraph.Faces viewFaces = head.project(pairView, config.dropout(), seed + 303);
    Operand<TFloat32> viewEmbedding = viewFaces.category();
    Operand<TFloat32> cleanInstance = twoFaces ? cleanFaces.instance() : cleanFaces.category();
    Operand<TFloat32> viewInstance = twoFaces ? viewFaces.instance() : viewFaces.category();
    // Category loss on catalog images and on their altered views: a shopper photo belongs to the category too.
    categoryLoss = tf.math.add(
        proxyLoss(tf, categoryEmbedding, unitProxies, categoryLabels, categories),
        proxyLoss(tf, viewEmbedding, unitProxies, pairLabels, categories));
    // InfoNCE in both directions: each view must pick its own catalog image among the batch's, and back.
    Operand<TFloat32> similarity = tf.math.div(
        tf.linalg.matMul(viewInstance, cleanInstance, MatMul.transposeB(true)), tf.constant(config.instanceTemperature()));
    Operand<TInt32> pairs = tf.shape(pairIdentity);
    pairs = tf.reshape(pairs, tf.constant(new int[0]));
    instanceLoss = tf.math.mul(tf.constant(0.5f), tf.math.add(
        meanCrossEntropy(tf, similarity, pairIdentity, pairs, 0, 0),
        meanCrossEntropy(tf, tf.linalg.transpose(similarity, tf.constant(new int[] {1, 0})), pairIdentity, pairs, 0, 0)));
    Operand<TFloat32> loss = tf.math.add(categoryLoss, tf.math.mul(instanceLoss, tf.constant(config.instanceWeight())));

    Gradients gradients = tf.gradients(loss, parameters);
    // Every update waits for every gradient: the backward pass reads weights (e.g. w2 for the
    // hidden layer's gradient) that another update would otherwise overwrite mid-step, which made
    // runs with the same seed differ.
    List<Operation> allGradients = new ArrayList<>();
    for (int i = 0; i < parameters.size(); i++) {
      allGradients.add(gradients.dy(i).op());
    }
    Ops gated = tf.withControlDependencyOps(allGradients);
    for (int i = 0; i < parameters.size(); i++) {
      Variable<TFloat32> parameter = parameters.get(i);
      Variable<TFloat32> m = tf.variable(tf.zerosLike(parameter));
      Variable<TFloat32> v = tf.variable(tf.zerosLike(parameter));
      updates.add(gated.train.applyAdam(parameter, m, v, beta1Power, beta2Power, learningRate,
          tf.constant(BETA1), tf.constant(BETA2), tf.constant(EPSILON), gradients.<TFloat32>dy(i)));
    }

    inferenceInput = features(tf);
    HeadGraph.Faces inference = head.project(inferenceInput, 0, 0);
    inferenceCategory = inference.category();
    inferenceInstance = inference.instance();
    session = new Session(graph);
    session.initialize();
  }

  /** One epoch over {@code data}'s fit images; returns the mean {category loss, instance loss}. */
  double[] epoch(TrainingData data, int epoch, Random order) {
    int[] fit = data.split().fit().clone();
    shuffle(fit, order);
    int[] viewRows = new int[data.split().viewed().length];
    for (int i = 0; i < viewRows.length; i++) {
      viewRows[i] = i;
    }
    shuffle(viewRows, order);
    int steps = fit.length / config.batch();
    long totalSteps = (long) steps * config.epochs();
    double categorySum = 0;
    double instanceSum = 0;
    int pairCursor = 0;
    Features grid = data.clean().grid();
    Features views = data.views().grid();
    int[] viewed = data.split().viewed();
    int[] identity = new int[config.pairBatch()];
    for (int i = 0; i < identity.length; i++) {
      identity[i] = i;
    }
    for (int s = 0; s < steps; s++) {
      int[] rows = Arrays.copyOfRange(fit, s * config.batch(), (s + 1) * config.batch());
      if (pairCursor + config.pairBatch() > viewRows.length) {
        shuffle(viewRows, order);
        pairCursor = 0;
      }
      int[] pairRows = Arrays.copyOfRange(viewRows, pairCursor, pairCursor + config.pairBatch());
      pairCursor += config.pairBatch();
      int[] pairPositions = new int[pairRows.length];
      int[] pairLabelValues = new int[pairRows.length];
      for (int i = 0; i < pairRows.length; i++) {
        pairPositions[i] = viewed[pairRows[i]];
        pairLabelValues[i] = data.labels()[pairPositions[i]];
      }
      int[] labels = new int[rows.length];
      for (int i = 0; i < rows.length; i++) {
        labels[i] = data.labels()[rows[i]];
      }
      step++;
      double progress = (double) ((long) epoch * steps + s) / totalSteps;
      float rate = (float) (config.learningRate() * 0.5 * (1 + Math.cos(Math.PI * progress)));
      try (TFloat32 x = rowsTensor(grid, rows);
          TInt32 y = TInt32.vectorOf(labels);
          TFloat32 clean = rowsTensor(grid, pairPositions);
          TFloat32 view = rowsTensor(views, pairRows);
          TInt32 yView = TInt32.vectorOf(pairLabelValues);
          TInt32 ids = TInt32.vectorOf(identity);
          TFloat32 lr = TFloat32.scalarOf(rate);
          TFloat32 p1 = TFloat32.scalarOf((float) Math.pow(BETA1, step));
          TFloat32 p2 = TFloat32.scalarOf((float) Math.pow(BETA2, step))) {
        Session.Runner runner = session.runner()
            .feed(categoryInput, x).feed(categoryLabels, y)
            .feed(pairClean, clean).feed(pairView, view).feed(pairLabels, yView).feed(pairIdentity, ids)
            .feed(learningRate, lr).feed(beta1Power, p1).feed(beta2Power, p2)
            .fetch(categoryLoss).fetch(instanceLoss);
        updates.forEach(runner::addTarget);
        try (Result result = runner.run()) {
          categorySum += ((TFloat32) result.get(0)).getFloat();
          instanceSum += ((TFloat32) result.get(1)).getFloat();
        }
      }
    }
    return new double[] {categorySum / steps, instanceSum / steps};
  }

  /** The head's category face (no dropout) of every row of {@code rows}. */
  Features embed(Features rows) {
    return embedFaces(rows).category();
  }

  /** Both faces (no dropout) of every row of {@code rows}. */
  Embedded embedFaces(Features rows) {
    int n = rows.count();
    int instanceDim = config.instanceDim();
    float[] category = new float[n * config.dim()];
    float[] instance = new float[n * instanceDim];
    for (int first = 0; first < n; first += INFERENCE_BATCH) {
      int size = Math.min(INFERENCE_BATCH, n - first);
      Session.Runner runner = session.runner();
      try (TFloat32 x = TFloat32.tensorOf(Shape.of(size, inputs),
              DataBuffers.of(rows.rows(), true, false).slice((long) first * inputs, (long) size * inputs))) {
        runner.feed(inferenceInput, x).fetch(inferenceCategory);
        if (instanceDim > 0) {
          runner.fetch(inferenceInstance);
        }
        try (Result result = runner.run()) {
          BackboneFeatures.copyRows((TFloat32) result.get(0), category, first, size, config.dim());
          if (instanceDim > 0) {
            BackboneFeatures.copyRows((TFloat32) result.get(1), instance, first, size, instanceDim);
          }
        }
      }
    }
    return new Embedded(new Features(category, config.dim()), instanceDim > 0 ? new Features(instance, instanceDim) : null);
  }

  /** The current weights, as a head with the given blend and instance share (category face shipped as is). */
  ProjectionHead snapshot(float blend, float instanceShare) {
    boolean twoFaces = config.instanceDim() > 0;
    Session.Runner runner = session.runner();
    for (Variable<TFloat32> parameter : parameters) {
      runner.fetch(parameter);
    }
    try (Result result = runner.run()) {
      float[][] values = new float[parameters.size()][];
      for (int i = 0; i < values.length; i++) {
        TFloat32 t = (TFloat32) result.get(i);
        values[i] = new float[(int) t.shape().size()];
        t.copyTo(DataBuffers.of(values[i], false, false));
      }
      float[] wi = twoFaces ? values[4] : new float[0];
      float[] bi = twoFaces ? values[5] : new float[0];
      return new ProjectionHead(inputs, pixels, config.hidden(), config.dim(), config.instanceDim(), mean.clone(),
          invStd.clone(), values[0], values[1], values[2], values[3], wi, bi, values[values.length - 1], 0, blend,
          instanceShare);
    }
  }

  ProjectionHead snapshot(float blend) {
    return snapshot(blend, 0);
  }

  /** Normalised softmax: cosine to each category's proxy, divided by the temperature, as logits. */
  private Operand<TFloat32> proxyLoss(Ops tf, Operand<TFloat32> embedding, Operand<TFloat32> unitProxies,
      Operand<TInt32> labels, int categories) {
    Operand<TFloat32> cosines = tf.linalg.matMul(embedding, unitProxies, MatMul.transposeB(true));
    return meanCrossEntropy(tf, tf.math.div(cosines, tf.constant(config.temperature())), labels, tf.constant(categories),
        config.labelSmoothing() / categories, categories);
  }

  /**
   * Mean cross-entropy of integer labels, as log-softmax against one-hot targets: TensorFlow's C++
   * gradient registry (which graph-mode TensorFlow Java uses) has LogSoftmax but not the fused
   * sparse cross-entropy op. {@code classes} must not be derived from the logits (e.g. by a Shape
   * op): a non-differentiable op on the path from the weights crashes the C gradient builder.
   * {@code offTarget} is the target mass of each wrong class (label smoothing; 0 = one-hot), taken
   * from the right one so every target row sums to 1 over {@code classCount} classes.
   */
  private static Operand<TFloat32> meanCrossEntropy(
      Ops tf, Operand<TFloat32> logits, Operand<TInt32> labels, Operand<TInt32> classes, float offTarget, int classCount) {
    Operand<TFloat32> targets = tf.oneHot(labels, classes, tf.constant(1f - offTarget * (classCount - 1)), tf.constant(offTarget));
    Operand<TFloat32> perExample = tf.sum(tf.math.mul(targets, tf.nn.logSoftmax(logits)), tf.constant(1));
    return tf.math.neg(tf.math.mean(perExample, tf.constant(0)));
  }

  private TFloat32 rowsTensor(Features features, int[] rows) {
    return TFloat32.tensorOf(Shape.of(rows.length, inputs), DataBuffers.of(Vectors.selectRows(features.rows(), inputs, rows), true, false));
  }

  private static Placeholder<TFloat32> features(Ops tf) {
    return tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1)));
  }

  private static Placeholder<TFloat32> scalar(Ops tf) {
    return tf.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
  }

  /** Glorot-uniform initial weights from the seeded generator, so a run is reproducible. */
  private static Operand<TFloat32> glorot(Ops tf, Random random, int rows, int cols) {
    float limit = (float) Math.sqrt(6.0 / (rows + cols));
    float[] values = new float[rows * cols];
    for (int i = 0; i < values.length; i++) {
      values[i] = (random.nextFloat() * 2 - 1) * limit;
    }
    return tf.constant(Shape.of(rows, cols), DataBuffers.of(values, true, false));
  }

  private static void shuffle(int[] values, Random random) {
    for (int i = values.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = values[i];
      values[i] = values[j];
      values[j] = t;
    }
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
