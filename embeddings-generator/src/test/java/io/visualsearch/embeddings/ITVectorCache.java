package io.visualsearch.embeddings;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.config.Config;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreException;
import io.visualsearch.objectstore.ObjectStoreSettings;
import io.visualsearch.pipeline.PoisonRecordException;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.StackExtension;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.DelegatingS3Client;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;

/** The vector cache on the real S3 server: one model call per image and version, whoever asks. */
@ExtendWith(StackExtension.class)
class ITVectorCache {

  private static final Duration WAIT = Duration.ofSeconds(30);

  private ObjectStore store;
  private final ExecutorService records = Executors.newFixedThreadPool(2);

  @BeforeEach
  void start(EmbeddedStack stack) {
    Config config = EmbeddingsGeneratorService.definition().parse(stack.serviceEnvironment());
    store = ObjectStore.fromConfig(config, false);
    store.start();
  }

  @AfterEach
  void stop() {
    records.shutdownNow();
    store.close();
  }

  @Test
  void twoRecordsOfOneImageEmbeddedAtOnceCallTheModelOnce() throws Exception {
    String variant = "it-variant-" + System.nanoTime();
    VectorCache cache = new VectorCache(store, variant, 10);
    String sha = "cd".repeat(32);
    AtomicInteger modelCalls = new AtomicInteger();
    CountDownLatch release = new CountDownLatch(1);
    VectorCache.Embedder slowModel = () -> {
      modelCalls.incrementAndGet();
      release.await();
      return new float[] {0.6f, 0.8f};
    };
    AtomicReference<Thread> secondThread = new AtomicReference<>();
    Future<VectorCache.Vector> first = records.submit(() -> cache.get("m", 1, sha, slowModel));
    await().atMost(WAIT).until(() -> modelCalls.get() == 1);
    Future<VectorCache.Vector> second = records.submit(() -> {
      secondThread.set(Thread.currentThread());
      return cache.get("m", 1, sha, slowModel);
    });
    // The second record is parked: on the first one's vector, or (the defect) in its own model call.
    await().atMost(WAIT).until(() -> parked(secondThread.get()));
    release.countDown();
    VectorCache.Vector a = first.get(30, TimeUnit.SECONDS);
    VectorCache.Vector b = second.get(30, TimeUnit.SECONDS);
    assertEquals(1, modelCalls.get(), "the shared photo is embedded once");
    assertTrue(a.computed());
    assertFalse(b.computed());
    assertArrayEquals(a.values(), b.values());
    assertFalse(cache.get("m", 1, sha, () -> {
      throw new AssertionError("stored: no model call");
    }).computed());
    assertArrayEquals(new float[] {0.6f, 0.8f},
        new VectorCache(store, variant, 10).get("m", 1, sha, () -> {
          throw new AssertionError("a restarted generator reads the stored vector");
        }).values());
  }

  @Test
  void aRecordWaitingOnAnotherSharesItsFailureAndTheNextOneTriesAgain() throws Exception {
    VectorCache cache = new VectorCache(store, "it-variant-" + System.nanoTime(), 10);
    String sha = "ef".repeat(32);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger modelCalls = new AtomicInteger();
    PoisonRecordException missing = new PoisonRecordException("image-missing", "images/" + sha + " is gone");
    AtomicReference<Thread> secondThread = new AtomicReference<>();
    Future<VectorCache.Vector> first = records.submit(() -> cache.get("m", 1, sha, () -> {
      modelCalls.incrementAndGet();
      release.await();
      throw missing;
    }));
    await().atMost(WAIT).until(() -> modelCalls.get() == 1);
    Future<VectorCache.Vector> second = records.submit(() -> {
      secondThread.set(Thread.currentThread());
      return cache.get("m", 1, sha, () -> {
        modelCalls.incrementAndGet();
        throw missing;
      });
    });
    await().atMost(WAIT).until(() -> parked(secondThread.get()));
    release.countDown();
    for (Future<VectorCache.Vector> f : List.of(first, second)) {
      Exception e = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
      assertSame(missing, e.getCause());
    }
    assertEquals(1, modelCalls.get());
    assertTrue(cache.get("m", 1, sha, () -> new float[] {1f}).computed(), "a failure is not remembered");
  }

  @Test
  void aVectorWhoseWriteFailedIsWrittenByTheRetryWithoutAnotherModelCall(EmbeddedStack stack) throws Exception {
    Config config = EmbeddingsGeneratorService.definition().parse(stack.serviceEnvironment());
    AtomicBoolean failNextPut = new AtomicBoolean(true);
    S3Client slowingDown = new DelegatingS3Client(ObjectStore.client(config)) {
      @Override
      public PutObjectResponse putObject(PutObjectRequest request, RequestBody body) {
        if (failNextPut.getAndSet(false)) {
          throw S3Exception.builder().statusCode(503).message("SlowDown").build();
        }
        return super.putObject(request, body);
      }
    };
    ObjectStore outage = new ObjectStore(timeouts -> slowingDown, config.get(ObjectStoreSettings.BUCKET), false,
        config.get(ObjectStoreSettings.TRANSFER_TIMEOUT));
    outage.start();
    try {
      String variant = "it-variant-" + System.nanoTime();
      VectorCache cache = new VectorCache(outage, variant, 10);
      String sha = "ab".repeat(32);
      ObjectStoreException e = assertThrows(ObjectStoreException.class,
          () -> cache.get("m", 1, sha, () -> new float[] {0.6f, 0.8f}));
      assertTrue(e.retriable());
      assertArrayEquals(new float[] {0.6f, 0.8f}, cache.get("m", 1, sha, () -> {
        throw new AssertionError("the retry writes the vector it already has");
      }).values());
      assertArrayEquals(new float[] {0.6f, 0.8f}, new VectorCache(store, variant, 10).get("m", 1, sha, () -> {
        throw new AssertionError("a restarted generator reads the vector the retry wrote");
      }).values());
    } finally {
      outage.close();
    }
  }

  private static boolean parked(Thread t) {
    return t != null && t.getState() == Thread.State.WAITING;
  }
}
