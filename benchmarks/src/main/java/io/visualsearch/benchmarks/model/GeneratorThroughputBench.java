package io.visualsearch.benchmarks.model;

import io.visualsearch.benchmarks.JitActivity;
import io.visualsearch.config.Config;
import io.visualsearch.embeddings.EmbeddingsGeneratorService;
import io.visualsearch.modelserver.BatchStats;
import io.visualsearch.modelserver.ModelServer;
import io.visualsearch.modelserver.ModelServerService;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreSettings;
import io.visualsearch.pipeline.PipelineHeaders;
import io.visualsearch.proto.events.ImageReady;
import io.visualsearch.runtime.RuntimeSettings;
import io.visualsearch.runtime.ServiceHost;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.topics.Topics;
import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The embeddings-generator end to end, as deployed: the embedded Kafka, S3 server and Zipkin, the
 * model server and the generator wired exactly as their mains wire them (tracing to Zipkin at the
 * given sample ratio: the deployed manifests use 0.1, and at 1.0 the co-located Zipkin alone takes
 * a quarter of these two cores),
 * images in the object store and {@code images.ready} records in; the rate is how fast
 * {@code embeddings} records come out once the generator is warm.
 */
final class GeneratorThroughputBench {

  /**
   * Embeddings per second over the measured records, how many records that was, and what the
   * model server's batcher did meanwhile (how full its runs were, how busy TensorFlow was).
   *
   * @param jitShare how busy this JVM's JIT compilers were over the round, as a share of one core
   *     (they compete with TensorFlow for the cores while the code is still warming)
   */
  record Result(double imagesPerSecond, int images, double seconds, BatchStats batches, double jitShare) {

    /** Share of the round's wall time a TensorFlow run was executing (summed over batch threads). */
    double tensorflowBusy() {
      return batches.runNanos() / (seconds * 1e9);
    }
  }

  private final EmbeddedStack stack;
  private final String modelBase;
  private final Map<String, String> modelServerEnv;
  private final Map<String, String> generatorEnv;
  private final String tenant = "bench-" + System.currentTimeMillis();

  private final String traceSampleRatio;

  GeneratorThroughputBench(EmbeddedStack stack, String modelBase, Map<String, String> modelServerEnv,
      Map<String, String> generatorEnv, String traceSampleRatio) {
    this.generatorEnv = generatorEnv;
    this.traceSampleRatio = traceSampleRatio;
    this.stack = stack;
    this.modelBase = modelBase;
    this.modelServerEnv = modelServerEnv;
  }

  /**
   * How long to warm up: at least {@code minImages}, then rounds of the measured size until the
   * JIT compilers spent at most {@code quietJitShare} of one core over a round, or {@code maxImages}.
   */
  record Warmup(int minImages, int maxImages, double quietJitShare) {}

  /**
   * Starts the model server and the generator on the stack, warms them up, then embeds
   * {@code rounds} rounds of {@code perRound} records; {@code between} runs after each round
   * (the caller's alternating reference measurement) while the pipeline is idle.
   */
  List<Result> run(Warmup warmup, int rounds, int perRound, Runnable between) throws Exception {
    Config storeConfig = ObjectStoreSettings.definition().parse(stack.serviceEnvironment());
    Set<String> seen = ConcurrentHashMap.newKeySet();
    AtomicBoolean stop = new AtomicBoolean();
    List<Result> results = new ArrayList<>();
    try (ObjectStore store = ObjectStore.fromConfig(storeConfig, false);
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of("bootstrap.servers",
            stack.kafkaBootstrapServers(), "linger.ms", "5"), new ByteArraySerializer(), new ByteArraySerializer());
        ServiceHost modelHost = new ServiceHost(ModelServerService.NAME);
        ServiceHost generatorHost = new ServiceHost(EmbeddingsGeneratorService.NAME)) {
      store.start();
      int total = Math.max(warmup.minImages(), warmup.maxImages()) + rounds * perRound;
      System.out.printf("  storing %d distinct 224x224 PNG product images%n", total);
      String[] shas = new String[total];
      List<byte[]> sample = new ArrayList<>();
      for (int i = 0; i < shas.length; i++) {
        byte[] png = png(i);
        shas[i] = sha256(png);
        store.put("images/" + shas[i], png, "image/png");
        if (i < 64) {
          sample.add(png);
        }
      }
      StoredImageDecodeBench.print(sample);

      Map<String, String> modelEnv = new HashMap<>(stack.serviceEnvironment());
      modelEnv.putAll(Map.of("MODEL_SERVER_BASE_PATH", modelBase, "MODEL_SERVER_GRPC_PORT", "0",
          "MODEL_SERVER_REST_PORT", "-1", "OPS_PORT", "0"));
      modelEnv.putAll(modelServerEnv);
      modelEnv.put("TRACING_SAMPLE_RATIO", traceSampleRatio);
      ModelServer server = ModelServerService.wire(ModelServerService.definition()
          .include(RuntimeSettings.definition()).parse(modelEnv), modelHost);
      modelHost.start();

      Map<String, String> env = new HashMap<>(stack.serviceEnvironment());
      env.put("MODEL_SERVER_TARGET", "127.0.0.1:" + server.grpcPort());
      env.put("KAFKA_GROUP_ID", tenant);
      env.put("EMBEDDINGS_MODEL_POLL_INTERVAL", "500ms");
      env.put("OPS_PORT", "0");
      env.put("TRACING_SAMPLE_RATIO", traceSampleRatio);
      env.putAll(generatorEnv);
      EmbeddingsGeneratorService.wire(EmbeddingsGeneratorService.definition().include(RuntimeSettings.definition())
          .parse(env), generatorHost);
      generatorHost.start();

      Thread reader = collect(seen, stop);
      long warmFrom = System.nanoTime();
      send(producer, shas, 0, warmup.minImages());
      awaitCount(seen, warmup.minImages(), Duration.ofMinutes(3));
      int sent = warmup.minImages();
      // The process holds the broker, the AWS SDK, gRPC and the generator: their JIT compilers
      // still took a tenth of a core after 10,000 images, competing with TensorFlow for the two
      // cores (embeddings-generator RATIONALE.md).
      StringBuilder warmRounds = new StringBuilder();
      while (sent + perRound <= warmup.maxImages()) {
        JitActivity jit = JitActivity.start();
        double seconds = embed(producer, shas, seen, sent, perRound);
        sent += perRound;
        double jitShare = jit.shareOfACore();
        warmRounds.append(String.format(Locale.ROOT, " %.0f/%.0f%%", perRound / seconds, 100 * jitShare));
        if (jitShare <= warmup.quietJitShare()) {
          break;
        }
      }
      System.out.printf(Locale.ROOT, "  warmed up with %d images in %.0f s (JIT quiet at %.0f%% of a core over %d images, "
              + "or %d images at most)%s%n", sent, (System.nanoTime() - warmFrom) / 1e9, 100 * warmup.quietJitShare(),
          perRound, warmup.maxImages(), warmRounds.isEmpty() ? "" : "; rounds after the first " + warmup.minImages()
              + " (img/s / JIT share):" + warmRounds);
      for (int r = 0; r < rounds; r++) {
        between.run();
        BatchStats before = server.batchStats();
        JitActivity jit = JitActivity.start();
        double seconds = embed(producer, shas, seen, sent, perRound);
        sent += perRound;
        results.add(new Result(perRound / seconds, perRound, seconds, server.batchStats().since(before),
            jit.shareOfACore()));
      }
      stop.set(true);
      reader.join(10_000);
      return results;
    } finally {
      stop.set(true);
    }
  }

  /** Sends records {@code from} to {@code from + count} and waits for their embeddings; the seconds that took. */
  private double embed(KafkaProducer<byte[], byte[]> producer, String[] shas, Set<String> seen, int from, int count)
      throws InterruptedException {
    long t0 = System.nanoTime();
    send(producer, shas, from, count);
    awaitCount(seen, from + count, Duration.ofMinutes(10));
    return (System.nanoTime() - t0) / 1e9;
  }

  private void send(KafkaProducer<byte[], byte[]> producer, String[] shas, int from, int count) {
    for (int i = from; i < from + count; i++) {
      String sku = "sku-" + i;
      ImageReady r = ImageReady.newBuilder().setTenant(tenant).setSku(sku).setImageSha256(shas[i])
          .setObjectKey("images/" + shas[i]).build();
      ProducerRecord<byte[], byte[]> rec = new ProducerRecord<>(Topics.IMAGES_READY.name(),
          (tenant + "/" + sku).getBytes(StandardCharsets.UTF_8), r.toByteArray());
      rec.headers().add(PipelineHeaders.TENANT, tenant.getBytes(StandardCharsets.UTF_8));
      producer.send(rec);
    }
    producer.flush();
  }

  /** Reads {@code embeddings} from the start, remembering this run's keys. */
  private Thread collect(Set<String> seen, AtomicBoolean stop) {
    Thread t = new Thread(() -> {
      try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(Map.of(
          "bootstrap.servers", stack.kafkaBootstrapServers(), "group.id", tenant + "-reader",
          "auto.offset.reset", "earliest"), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
        c.subscribe(List.of(Topics.EMBEDDINGS.name()));
        while (!stop.get()) {
          for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(100))) {
            String key = new String(r.key(), StandardCharsets.UTF_8);
            if (key.startsWith(tenant + "/") && r.value() != null) {
              seen.add(key);
            }
          }
        }
      }
    }, "bench-embeddings-reader");
    t.setDaemon(true);
    t.start();
    return t;
  }

  private static void awaitCount(Set<String> seen, int n, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (seen.size() < n) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("only " + seen.size() + " of " + n + " embeddings within " + timeout);
      }
      TimeUnit.MILLISECONDS.sleep(5);
    }
  }

  /** A distinct, smooth product-like picture per index (gradient, shapes), so PNGs stay small. */
  static byte[] png(int i) throws IOException {
    Random r = new Random(i * 7919L + 17);
    BufferedImage img = new BufferedImage(224, 224, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      g.setPaint(new GradientPaint(0, 0, new Color(r.nextInt(0xffffff)), 224, 224, new Color(r.nextInt(0xffffff))));
      g.fillRect(0, 0, 224, 224);
      for (int s = 0; s < 3; s++) {
        g.setColor(new Color(r.nextInt(0xffffff)));
        g.fillOval(r.nextInt(160), r.nextInt(160), 30 + r.nextInt(90), 30 + r.nextInt(90));
      }
    } finally {
      g.dispose();
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, "png", out);
    return out.toByteArray();
  }

  static String sha256(byte[] b) throws NoSuchAlgorithmException {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }
}
