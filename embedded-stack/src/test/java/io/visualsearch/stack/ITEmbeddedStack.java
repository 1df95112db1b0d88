package io.visualsearch.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import io.visualsearch.topics.Topic;
import io.visualsearch.topics.TopicInitializer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(StackExtension.class)
class ITEmbeddedStack {

  @Test
  void servicesRacingToCreateTheSameTopicsSucceedAndEachTopicIsCreatedOnce(EmbeddedStack stack) throws Exception {
    List<Topic> topics = IntStream.range(0, 12).mapToObj(i -> new Topic("race-" + i, false, Map.of())).toList();
    int racers = 8;
    ExecutorService pool = Executors.newFixedThreadPool(racers);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<List<String>>> results = new ArrayList<>();
    try {
      for (int r = 0; r < racers; r++) {
        results.add(pool.submit(() -> {
          Properties props = new Properties();
          props.put("bootstrap.servers", stack.kafkaBootstrapServers());
          try (Admin a = Admin.create(props)) {
            a.listTopics().names().get(); // connected before the start line
            go.await();
            return new TopicInitializer(a, 2, (short) 1).ensure(topics);
          }
        }));
      }
      go.countDown();
      List<String> created = new ArrayList<>();
      for (Future<List<String>> f : results) {
        created.addAll(f.get(60, TimeUnit.SECONDS));
      }
      created.sort(null);
      assertEquals(topics.stream().map(Topic::name).sorted().toList(), created,
          "no racer fails, and each topic is reported created by exactly one of them");
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void kafkaCarriesARecordAndTopicsHaveTheirCleanupPolicy(EmbeddedStack stack) throws Exception {
    Properties admin = new Properties();
    admin.put("bootstrap.servers", stack.kafkaBootstrapServers());
    try (Admin a = Admin.create(admin)) {
      Map<String, TopicDescription> topics = a.describeTopics(List.of("embeddings", "search.responses", "embeddings.dlq"))
          .allTopicNames().get();
      assertEquals(3, topics.get("embeddings").partitions().size());
      var cfgs = a.describeConfigs(List.of(new ConfigResource(ConfigResource.Type.TOPIC, "embeddings"),
          new ConfigResource(ConfigResource.Type.TOPIC, "search.responses"))).all().get();
      assertEquals("compact", cfgs.get(new ConfigResource(ConfigResource.Type.TOPIC, "embeddings")).get("cleanup.policy").value());
      assertEquals("delete", cfgs.get(new ConfigResource(ConfigResource.Type.TOPIC, "search.responses")).get("cleanup.policy").value());
    }

    Properties p = new Properties();
    p.put("bootstrap.servers", stack.kafkaBootstrapServers());
    try (var producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
      producer.send(new ProducerRecord<>("catalog.products", "stack-it/sku-1", "hello")).get();
    }
    Properties c = new Properties();
    c.put("bootstrap.servers", stack.kafkaBootstrapServers());
    c.put("group.id", "stack-it");
    c.put("auto.offset.reset", "earliest");
    try (var consumer = new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
      consumer.subscribe(List.of("catalog.products"));
      boolean found = false;
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (!found && System.nanoTime() < deadline) {
        ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(500));
        for (var r : records) {
          found |= r.key().equals("stack-it/sku-1") && r.value().equals("hello");
        }
      }
      assertTrue(found, "record produced to the embedded broker was not consumed");
    }
  }

  @Test
  void zipkinAndS3AnswerOnLoopback(EmbeddedStack stack) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(stack.zipkin().baseUrl() + "/health")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, health.statusCode());
    assertTrue(health.body().contains("UP"), health.body());
    // The deployment's bucket exists before any service starts.
    HttpResponse<String> s3 = http.send(HttpRequest.newBuilder(URI.create(stack.s3().endpoint() + "/" + stack.s3().bucket())).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, s3.statusCode(), s3.body());
    assertTrue(s3.body().contains("<Name>visual-search</Name>"), s3.body());
    assertTrue(stack.check().ok());
    assertTrue(stack.zipkin().baseUrl().startsWith("http://127.0.0.1:"));
    // The stack runs on a free port here: the health page's trace links must follow it, not :9411.
    assertEquals(stack.zipkin().baseUrl(), stack.serviceEnvironment().get("HEALTH_ZIPKIN_UI"));
  }

  @Test
  void aStackThatFailsToStartLeavesNoServerProcessRunning(@TempDir Path dir) throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      EmbeddedStack stack = new EmbeddedStack(config(dir, "STACK_KAFKA_PORT", String.valueOf(taken.getLocalPort())));
      assertThrows(Exception.class, stack::start, "the broker's port is taken");
      stack.close(); // what the demo does after a failed start
    }
    assertNoServerOf(dir);
    assertTrue(java.nio.file.Files.exists(dir.resolve(EmbeddedStack.DATA_DIR_MARKER)),
        "the stack marked the empty directory it started on as its own");
  }

  @Test
  void aServerAlreadyAnsweringOnZipkinsPortFailsTheStartNamingThePort(@TempDir Path dir) throws Exception {
    HttpServer impostor = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    impostor.createContext("/", exchange -> {
      exchange.sendResponseHeaders(200, -1);
      exchange.close();
    });
    impostor.start();
    try {
      int port = impostor.getAddress().getPort();
      EmbeddedStack stack = new EmbeddedStack(config(dir, "STACK_ZIPKIN_PORT", String.valueOf(port)));
      Exception e = assertThrows(Exception.class, stack::start, "something else answers on Zipkin's port");
      assertTrue(e.getMessage().contains("127.0.0.1:" + port + " is already in use")
          && e.getMessage().contains("STACK_ZIPKIN_PORT"), e.getMessage());
      stack.close();
    } finally {
      impostor.stop(0);
    }
    assertNoServerOf(dir);
  }

  @Test
  void aServerLeftRunningByAKilledStackIsStoppedByTheNextStartOnItsDirectory(@TempDir Path dir) throws Exception {
    int port = PortAllocator.free("127.0.0.1"); // Zipkin binds it seconds later, in its own JVM
    Path jar = new StackJars().zipkin();
    ZipkinServer orphan = new ZipkinServer(jar, "127.0.0.1", port, dir);
    ZipkinServer next = new ZipkinServer(jar, "127.0.0.1", port, dir);
    try {
      orphan.start();
      // Its JVM is "killed": nothing closes it, and the PID file names an owner that is gone.
      Path pidFile = dir.resolve(ZipkinServer.NAME + ".pid");
      Files.writeString(pidFile, Files.readString(pidFile).trim().split(" ")[0] + " " + exitedPid() + "\n");
      next.start();
      assertTrue(orphan.check().detail().startsWith("exited"), "the leftover was stopped: " + orphan.check());
      assertTrue(next.check().ok());
    } finally {
      next.close();
      orphan.close();
    }
  }

  @Test
  void aServerOfAStackStillRunningIsNotStoppedButTheSecondStartIsRefused(@TempDir Path dir) throws Exception {
    int port = PortAllocator.free("127.0.0.1"); // Zipkin binds it seconds later, in its own JVM
    Path jar = new StackJars().zipkin();
    ZipkinServer running = new ZipkinServer(jar, "127.0.0.1", port, dir);
    ZipkinServer second = new ZipkinServer(jar, "127.0.0.1", port, dir);
    try {
      running.start(); // owned by this JVM, which runs on
      IOException e = assertThrows(IOException.class, second::start);
      assertTrue(e.getMessage().contains("still running in process " + ProcessHandle.current().pid()), e.getMessage());
      assertTrue(running.check().ok(), "the running stack's server is left alone: " + running.check());
    } finally {
      second.close();
      running.close();
    }
  }

  /** The PID of a process that has exited: an owner that is gone. */
  private static long exitedPid() throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    return p.pid();
  }

  /** A stack on free ports in {@code dir}, with one setting given. */
  private static io.visualsearch.config.Config config(Path dir, String key, String value) {
    Map<String, String> env = new java.util.HashMap<>(Map.of("STACK_KAFKA_PORT", "0",
        "STACK_KAFKA_CONTROLLER_PORT", "0", "STACK_S3_PORT", "0", "STACK_ZIPKIN_PORT", "0",
        "STACK_DATA_DIR", dir.toString()));
    env.put(key, value);
    return StackSettings.definition().parse(env);
  }

  /**
   * No s3proxy or Zipkin process of the stack in {@code dir} is left running. Child starts still in
   * progress are waited out first: a server spawned after the failure is the leak this looks for.
   */
  private static void assertNoServerOf(Path dir) throws Exception {
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith("start-")) {
        t.join(TimeUnit.MINUTES.toMillis(3));
      }
    }
    List<ProcessHandle> left = ProcessHandle.current().descendants()
        .filter(p -> p.info().commandLine().orElse("").contains(dir.toString())).toList();
    try {
      for (ProcessHandle p : left) {
        try {
          p.onExit().get(2, TimeUnit.MINUTES);
        } catch (TimeoutException e) {
          throw new AssertionError("still running after the failed start: " + p.info().commandLine().orElse("?"));
        }
      }
    } finally {
      left.forEach(ProcessHandle::destroyForcibly);
    }
  }
}
