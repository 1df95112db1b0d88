package io.visualsearch.indexbuilder;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.indexformat.CurrentPointer;
import io.visualsearch.indexformat.IndexJson;
import io.visualsearch.indexformat.IndexLayout;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreSettings;
import io.visualsearch.pipeline.KafkaClients;
import io.visualsearch.pipeline.KafkaSettings;
import io.visualsearch.pipeline.TopicReplay;
import io.visualsearch.proto.events.IndexPublished;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.StackExtension;
import io.visualsearch.topics.Topics;
import io.visualsearch.tracing.TracingSettings;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Announcements on {@code index.published} that fail, against the real S3 server and broker: the
 * builder is put together as {@link IndexBuilderService} does, except that the producer its
 * announcements use can be switched to one whose broker does not answer, as a Kafka outage looks
 * to the client.
 */
@ExtendWith(StackExtension.class)
class ITPublicationAnnouncements {

  private static final Duration WAIT = Duration.ofSeconds(60);
  private final IndexJson json = new IndexJson();

  /** Where announcements go: the stack's broker, or while {@code down} one that does not answer. */
  private static final class SwitchableProducer implements Supplier<Producer<byte[], byte[]>>, AutoCloseable {
    final AtomicBoolean down = new AtomicBoolean();
    final AtomicInteger triedWhileDown = new AtomicInteger();
    final Producer<byte[], byte[]> up;
    final Producer<byte[], byte[]> unreachable;

    SwitchableProducer(KafkaClients clients, String id) throws Exception {
      up = clients.producer(id);
      int closedPort;
      try (ServerSocket s = new ServerSocket(0)) {
        closedPort = s.getLocalPort();
      }
      Properties p = new Properties();
      p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + closedPort);
      p.put(ProducerConfig.CLIENT_ID_CONFIG, id + "-unreachable");
      // Metadata never arrives; a short wait keeps the test quick (production waits a minute).
      p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "200");
      unreachable = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    @Override
    public Producer<byte[], byte[]> get() {
      if (down.get()) {
        triedWhileDown.incrementAndGet();
        return unreachable;
      }
      return up;
    }

    @Override
    public void close() {
      unreachable.close(Duration.ZERO);
      up.close();
    }
  }

  private static Map<String, String> env(EmbeddedStack stack) {
    return stack.serviceEnvironment();
  }

  private static ObjectStore store(EmbeddedStack stack) {
    ObjectStore store = ObjectStore.fromConfig(ObjectStoreSettings.definition().parse(env(stack)), false);
    store.start();
    return store;
  }

  private static KafkaClients clients(EmbeddedStack stack) {
    return new KafkaClients(KafkaSettings.definition().include(TracingSettings.definition()).parse(env(stack)));
  }

  private CurrentPointer current(ObjectStore store, String tenant) throws Exception {
    var o = store.get(IndexLayout.currentPointer(tenant));
    return o.isEmpty() ? null : json.pointer(o.get().bytes());
  }

  private static TreeSet<String> versions(ObjectStore store, String tenant) {
    return StoredVersions.of(store, tenant);
  }


  /** Every version announced for {@code tenant} so far, in topic order. */
  private static List<String> announced(KafkaClients clients, String tenant) throws Exception {
    List<String> out = new ArrayList<>();
    try (var consumer = clients.consumer("it-ann-reader", "it-ann-reader-" + System.nanoTime())) {
      TopicReplay.toEnd(consumer, Topics.INDEX_PUBLISHED.name(), WAIT, rec -> {
        if (rec.key() != null && tenant.equals(new String(rec.key(), StandardCharsets.UTF_8))) {
          try {
            out.add(IndexPublished.parseFrom(rec.value()).getIndexVersion());
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }
      });
    }
    return out;
  }

  /**
   * Kafka is down when a change is published: the version stays published (CURRENT flipped once,
   * one version uploaded), garbage collection runs, and the announcement is retried on the build
   * thread's ticks, not by building the tenant again, until the broker answers.
   */
  @Test
  void aChangePublishedWhileKafkaIsDownIsOneVersionCollectedAroundAndAnnouncedOnceKafkaAnswers(EmbeddedStack stack)
      throws Exception {
    String tenant = "it-ann-outage";
    // Two versions of an earlier run: CURRENT names the newer, so the older one is garbage.
    String older = "20200101T000000Z-000aaaaaa";
    String before = "20200101T000001Z-000bbbbbb";
    KafkaClients clients = clients(stack);
    try (ObjectStore store = store(stack);
        SwitchableProducer producer = new SwitchableProducer(clients, "it-ann-outage");
        Builder b = new Builder(store, clients, "it-ann-outage", producer)) {
      for (String v : List.of(older, before)) {
        store.put(IndexLayout.file(tenant, v, "shard-000.faiss"), new byte[] {1, 2, 3}, "application/octet-stream");
      }
      store.put(IndexLayout.currentPointer(tenant), json.write(new CurrentPointer(before,
          IndexLayout.manifest(tenant, before), 1, 0)), "application/json");

      producer.down.set(true);
      b.apply(tenant, 0, 3);
      b.schedule.changed(tenant, System.currentTimeMillis());
      b.scheduler.start();

      await().atMost(WAIT).until(() -> !current(store, tenant).version().equals(before));
      String published = current(store, tenant).version();
      // Several failed attempts, each a tick of the build thread after its backoff.
      await().atMost(WAIT).until(() -> producer.triedWhileDown.get() >= 4);
      assertEquals(new TreeSet<>(List.of(before, published)), versions(store, tenant),
          "one version built for one change, and the garbage collected (the one before CURRENT stays)");
      assertEquals(published, current(store, tenant).version());
      assertEquals(0, b.builds("failed"), "the build published; only its announcement failed");
      assertEquals(1, b.builds("published"));
      assertEquals(Map.of(tenant, published), b.build.announcements().versions());
      assertTrue(b.counter("index_builder_announcement_failures", null, null) >= 3, "the fourth may be on its way");
      assertTrue(b.scheduler.check().ok(), "search-api still finds the version through CURRENT");
      assertEquals(List.of(), announced(clients, tenant));

      producer.down.set(false);
      await().atMost(WAIT).until(() -> b.build.announcements().size() == 0);
      assertEquals(List.of(published), announced(clients, tenant));
      assertEquals(new TreeSet<>(List.of(before, published)), versions(store, tenant));
      assertEquals(1, b.builds("published"));
      assertEquals("ok", b.scheduler.check().detail());
    }
  }

  /**
   * A builder stopped between flipping CURRENT and the announcement's acknowledgement: at its next
   * start the published version covers every change, so nothing is built; it is announced then,
   * because index.published does not name it. A version the topic already names is not announced
   * again.
   */
  @Test
  void aVersionPublishedButNeverAnnouncedIsAnnouncedAtTheNextStartAndOnlyThatOne(EmbeddedStack stack)
      throws Exception {
    String unannounced = "it-ann-crash";
    String announcedTenant = "it-ann-fine";
    KafkaClients clients = clients(stack);
    try (ObjectStore store = store(stack);
        SwitchableProducer producer = new SwitchableProducer(clients, "it-ann-crash")) {
      String unannouncedVersion;
      String announcedVersion;
      try (Builder first = new Builder(store, clients, "it-ann-crash-1", producer)) {
        first.scheduler.start();
        first.apply(announcedTenant, 0, 3);
        first.schedule.changed(announcedTenant, System.currentTimeMillis());
        await().atMost(WAIT).until(() -> announced(clients, announcedTenant).size() == 1);
        announcedVersion = current(store, announcedTenant).version();

        producer.down.set(true);
        first.apply(unannounced, 3, 4);
        first.schedule.changed(unannounced, System.currentTimeMillis());
        await().atMost(WAIT).until(() -> current(store, unannounced) != null);
        unannouncedVersion = current(store, unannounced).version();
        await().atMost(WAIT).until(() -> producer.triedWhileDown.get() >= 1);
      } // stops with the announcement pending, as a crash would leave it

      producer.down.set(false);
      try (Builder second = new Builder(store, clients, "it-ann-crash-2", producer)) {
        // A restart: the replay rebuilds the same catalogs, and each tenant is checked once.
        second.apply(announcedTenant, 0, 3);
        second.apply(unannounced, 3, 4);
        second.schedule.replayed(List.of(announcedTenant, unannounced), System.currentTimeMillis());
        second.announced.start();
        second.scheduler.start();

        await().atMost(WAIT).until(() -> second.builds("up_to_date") == 2);
        await().atMost(WAIT).until(() -> second.build.announcements().size() == 0);
        producer.up.flush();
        assertEquals(List.of(unannouncedVersion), announced(clients, unannounced));
        assertEquals(List.of(announcedVersion), announced(clients, announcedTenant), "announced once, not again");
        assertEquals(0, second.builds("published"), "nothing rebuilt");
        assertEquals(Set.of(unannouncedVersion), versions(store, unannounced));
        assertEquals(unannouncedVersion, current(store, unannounced).version());
      }
    }
  }

  /**
   * A version published but never announced, and at the next start a model rollout under way: the
   * new model's vectors cover only part of the catalog, so the build is held and nothing is
   * published for as long as the re-embedding takes. The served version is announced all the same,
   * or response-consumer never computes its similar items.
   */
  @Test
  void aVersionNeverAnnouncedIsAnnouncedWhileARolloutHoldsTheNextBuild(EmbeddedStack stack) throws Exception {
    String tenant = "it-ann-held";
    KafkaClients clients = clients(stack);
    try (ObjectStore store = store(stack);
        SwitchableProducer producer = new SwitchableProducer(clients, "it-ann-held")) {
      String served;
      try (Builder first = new Builder(store, clients, "it-ann-held-1", producer)) {
        producer.down.set(true);
        first.scheduler.start();
        first.apply(tenant, 0, 4);
        first.schedule.changed(tenant, System.currentTimeMillis());
        await().atMost(WAIT).until(() -> current(store, tenant) != null && producer.triedWhileDown.get() >= 1);
        served = current(store, tenant).version();
      } // stops with the announcement pending

      producer.down.set(false);
      try (Builder second = new Builder(store, clients, "it-ann-held-2", producer)) {
        second.apply(tenant, 0, 4);
        second.apply(tenant, 4, 2, 2); // model version 2 has re-embedded 2 of the 4 products so far
        second.schedule.replayed(List.of(tenant), System.currentTimeMillis());
        second.announced.start();
        second.scheduler.start();

        await().atMost(WAIT).until(() -> second.builds("held") >= 1);
        await().atMost(WAIT).until(() -> second.build.announcements().size() == 0);
        producer.up.flush();
        assertEquals(List.of(served), announced(clients, tenant));
        assertEquals(0, second.builds("published"), "the rollout holds the build");
        assertEquals(served, current(store, tenant).version());
      }
    }
  }

  /**
   * A catalog emptied by its feed, its empty version published but never announced: at the next
   * start a deletion repeated past that version's offsets (a re-sent tombstone) means the version no
   * longer covers every change, and with no product left nothing is built either. It must still be
   * announced, or response-consumer keeps serving the removed products' similar items for good.
   */
  @Test
  void anEmptiedCatalogsVersionNeverAnnouncedIsAnnouncedAtTheNextStart(EmbeddedStack stack) throws Exception {
    String tenant = "it-ann-emptied";
    KafkaClients clients = clients(stack);
    try (ObjectStore store = store(stack);
        SwitchableProducer producer = new SwitchableProducer(clients, "it-ann-emptied")) {
      String emptied;
      try (Builder first = new Builder(store, clients, "it-ann-emptied-1", producer)) {
        first.scheduler.start();
        first.apply(tenant, 0, 3);
        first.schedule.changed(tenant, System.currentTimeMillis());
        await().atMost(WAIT).until(() -> announced(clients, tenant).size() == 1);

        producer.down.set(true);
        first.delete(tenant, 0, 3, 3);
        first.schedule.changed(tenant, System.currentTimeMillis());
        await().atMost(WAIT).until(() -> !announced(clients, tenant).contains(current(store, tenant).version())
            && producer.triedWhileDown.get() >= 1);
        emptied = current(store, tenant).version();
        assertTrue(first.build.announcements().size() > 0, "the announcement is still pending");
      }

      producer.down.set(false);
      try (Builder second = new Builder(store, clients, "it-ann-emptied-2", producer)) {
        second.apply(tenant, 0, 3);
        second.delete(tenant, 0, 3, 3);
        second.delete(tenant, 0, 1, 6); // p-0's deletion again, past the emptied version's offsets
        second.schedule.replayed(List.of(tenant), System.currentTimeMillis());
        second.announced.start();
        second.scheduler.start();

        await().atMost(WAIT).until(() -> second.builds("up_to_date") == 1);
        await().atMost(WAIT).until(() -> second.build.announcements().size() == 0);
        producer.up.flush();
        List<String> all = announced(clients, tenant);
        assertEquals(emptied, all.get(all.size() - 1));
        assertEquals(0, second.builds("published"), "nothing to build: no product left");

        // The next check of the tenant finds it announced: once, not at every check.
        second.schedule.changed(tenant, System.currentTimeMillis());
        await().atMost(WAIT).until(() -> second.builds("up_to_date") == 2);
        producer.up.flush();
        assertEquals(all, announced(clients, tenant));
      }
    }
  }
}
