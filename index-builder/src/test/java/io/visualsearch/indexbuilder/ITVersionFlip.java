package io.visualsearch.indexbuilder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.indexformat.CurrentPointer;
import io.visualsearch.indexformat.IndexJson;
import io.visualsearch.indexformat.IndexLayout;
import io.visualsearch.indexformat.IndexManifest;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreSettings;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.StackExtension;
import java.lang.reflect.InvocationHandler;
import java.nio.charset.StandardCharsets;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/** The CURRENT flip on the real S3 server, including a conditional write whose answer is lost. */
@ExtendWith(StackExtension.class)
class ITVersionFlip {

  private static final String V1 = "20261206T020000Z-1";
  private static final String V2 = "20261206T020100Z-2";

  @Test
  void aFlipWhoseAnswerWasLostIsPublishedAndNamesTheVersionItReplaced(EmbeddedStack stack) {
    AtomicBoolean loseNextAnswer = new AtomicBoolean();
    var settings = ObjectStoreSettings.definition().parse(stack.serviceEnvironment());
    S3Client real = ObjectStore.client(settings);
    // What the SDK does when a conditional PUT's response is lost: it sends it again, and that
    // second attempt meets the ETag the first one wrote (412).
    InvocationHandler retryAfterLostAnswer = (proxy, method, args) -> {
      try {
        if (method.getName().equals("putObject") && args != null && args[0] instanceof PutObjectRequest put
            && put.ifMatch() != null && loseNextAnswer.getAndSet(false)) {
          method.invoke(real, args);
        }
        return method.invoke(real, args);
      } catch (InvocationTargetException e) {
        throw e.getCause();
      }
    };
    S3Client flaky = (S3Client) Proxy.newProxyInstance(S3Client.class.getClassLoader(), new Class<?>[] {S3Client.class},
        retryAfterLostAnswer);
    ObjectStore store = new ObjectStore(timeouts -> flaky, settings.get(ObjectStoreSettings.BUCKET), true,
        Duration.ofSeconds(30));
    store.start();
    try {
      IndexJson json = new IndexJson();
      VersionWriter writer = new VersionWriter(store, json);
      String tenant = "it-flip-" + System.nanoTime();
      VersionWriter.Flip first = writer.flip(tenant, manifest(tenant, V1), PublishedIndex.read(store, json, tenant), 1L);
      assertTrue(first.published());

      loseNextAnswer.set(true);
      VersionWriter.Flip second = writer.flip(tenant, manifest(tenant, V2), PublishedIndex.read(store, json, tenant), 2L);
      assertFalse(loseNextAnswer.get(), "the lost answer was played");
      assertTrue(second.published());
      assertEquals(V1, second.previousVersion(), "garbage collection keeps the version served before");
      assertEquals(V2, PublishedIndex.read(store, json, tenant).version());
    } finally {
      store.close();
    }
  }

  /**
   * A CURRENT or manifest that is JSON null, or a manifest lacking its model or offsets, failed
   * every build of the tenant (a NullPointerException while reading it) or announced nothing for
   * ever: it now reads as no usable index, which the next flip replaces.
   */
  @Test
  void anUnusablePublishedIndexIsReadAsNoneAndReplacedByTheNextFlip(EmbeddedStack stack) {
    var settings = ObjectStoreSettings.definition().parse(stack.serviceEnvironment());
    ObjectStore store = ObjectStore.fromConfig(settings, true);
    store.start();
    try {
      IndexJson json = new IndexJson();
      VersionWriter writer = new VersionWriter(store, json);
      IndexManifest good = manifest("it-unusable", V1);
      IndexManifest unnamed = new IndexManifest(good.format(), good.tenant(), V1, 1L, null, 0L, null, 8, "cosine",
          "IDMap,Flat", 3, good.shards(), good.skuMap(), null);
      String[][] published = {
          {"null", null},
          {json(json, new CurrentPointer(V1, IndexLayout.manifest("it-unusable", V1), 1, 1)), "null"},
          {json(json, new CurrentPointer(null, IndexLayout.manifest("it-unusable", V1), 1, 1)), json(json, good)},
          {json(json, new CurrentPointer(V1, IndexLayout.manifest("it-unusable", V1), 1, 1)), json(json, unnamed)},
          {json(json, new CurrentPointer(V1, IndexLayout.manifest("it-unusable", V1), 1, 1)),
              json(json, manifest("it-other", V1))}};
      int n = 0;
      for (String[] docs : published) {
        String tenant = "it-unusable-" + (n++) + "-" + System.nanoTime();
        String pointer = docs[0].replace("it-unusable", tenant);
        store.put(IndexLayout.currentPointer(tenant), pointer.getBytes(StandardCharsets.UTF_8), "application/json");
        if (docs[1] != null) {
          store.put(IndexLayout.manifest(tenant, V1), docs[1].replace("\"it-unusable\"", "\"" + tenant + "\"")
              .getBytes(StandardCharsets.UTF_8), "application/json");
        }
        PublishedIndex before = PublishedIndex.read(store, json, tenant);
        assertNull(before.manifest(), pointer + " / " + docs[1]);
        assertNull(before.model());
        assertTrue(writer.flip(tenant, manifest(tenant, V2), before, 2L).published(), pointer);
        assertEquals(V2, PublishedIndex.read(store, json, tenant).version());
      }
    } finally {
      store.close();
    }
  }

  private static String json(IndexJson json, Object value) {
    return new String(json.write(value), StandardCharsets.UTF_8);
  }

  private static IndexManifest manifest(String tenant, String version) {
    return new IndexManifest(IndexManifest.FORMAT, tenant, version, 1L, "default", 1L, "serving_default", 8,
        "cosine", "IDMap,Flat", 3, List.of(new IndexManifest.ShardFile("shard-000.faiss", 3, 100, "ab")),
        new IndexManifest.IndexFile("skus.tsv", 10, "cd"), Map.of(0, 5L), null, null);
  }
}
