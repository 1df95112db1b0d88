package io.visualsearch.searchapi.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.context.Context;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.pipeline.Activity;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadBucketResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.paginators.ListObjectsV2Iterable;

class IndexSwapperTest {

  @Test
  void publicationsQueuedBehindASlowLoadCostOneReloadATenantNotOneEach(@TempDir Path scratch) throws Exception {
    CountDownLatch storeAnswers = new CountDownLatch(1);
    AtomicInteger pointerReads = new AtomicInteger();
    S3Client s3 = (S3Client) Proxy.newProxyInstance(S3Client.class.getClassLoader(), new Class<?>[] {S3Client.class},
        (proxy, method, args) -> switch (method.getName()) {
          case "headBucket" -> HeadBucketResponse.builder().build();
          case "serviceName" -> "s3";
          case "close" -> null;
          case "listObjectsV2Paginator" -> new ListObjectsV2Iterable((S3Client) proxy, (ListObjectsV2Request) args[0]);
          case "listObjectsV2" -> ListObjectsV2Response.builder().build();
          default -> {
            // Each reload reads the tenant's CURRENT pointer; the first one hangs like a long transfer.
            pointerReads.incrementAndGet();
            storeAnswers.await();
            throw NoSuchKeyException.builder().statusCode(404).message("no such key").build();
          }
        });
    ObjectStore store = new ObjectStore(timeouts -> s3, "slow", false, Duration.ofMinutes(1));
    store.start();
    PrometheusRegistry registry = new PrometheusRegistry();
    IndexSwapper swapper = new IndexSwapper(new IndexLoader(store, scratch), new TenantIndexes(i -> { }),
        Duration.ofHours(1), registry, new Activity(registry), OpenTelemetry.noop().getTracer("test"));
    swapper.start();
    try {
      swapper.published("acme", Context.root());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (pointerReads.get() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertEquals(1, pointerReads.get(), "the first reload is loading");
      for (int i = 0; i < 1000; i++) {
        swapper.published("acme", Context.root());
        swapper.published("globex", Context.root());
      }
      storeAnswers.countDown();
      deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (pointerReads.get() < 3 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      Thread.sleep(500); // any further queued reload would read the pointer by now
      assertEquals(3, pointerReads.get(), "one reload of each tenant after the slow one, not 2000");
      swapper.published("acme", Context.root());
      deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (pointerReads.get() < 4 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertTrue(pointerReads.get() == 4, "a publication after the queue drained is reloaded again");
    } finally {
      storeAnswers.countDown();
      swapper.close();
      store.close();
    }
  }
}
