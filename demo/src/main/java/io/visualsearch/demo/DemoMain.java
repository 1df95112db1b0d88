package io.visualsearch.demo;

import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigException;
import io.visualsearch.runtime.ExitCode;
import io.visualsearch.runtime.HttpRequestDeadline;
import io.visualsearch.runtime.RuntimeSettings;
import io.visualsearch.runtime.ServiceStartException;
import io.visualsearch.samplecatalog.FashionMnist;
import io.visualsearch.samplecatalog.SampleImageServer;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.StackSettings;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * {@code ./visual-search demo}: the embedded stack, the default model, the sample catalog and every
 * service, wired together on 127.0.0.1; then the main job — a retailer's feed ingested end to end
 * — and a shopper's query printed in the terminal.
 */
public final class DemoMain {

  static final String TENANT = "demo";

  private DemoMain() {}

  public static void main(String[] args) {
    DemoOptions options;
    try {
      options = DemoOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("demo: " + e.getMessage());
      System.err.println(DemoOptions.USAGE);
      System.exit(ExitCode.CONFIG_ERROR.code());
      return;
    }
    int code;
    try {
      code = run(options, System.getenv()).code();
    } catch (Throwable t) {
      // The services' threads are not daemons: an unexpected error must still end the process.
      t.printStackTrace();
      code = ExitCode.FAILED.code();
    }
    System.exit(code);
  }

  static ExitCode run(DemoOptions options, Map<String, String> processEnv) {
    Config stackConfig;
    try {
      stackConfig = StackSettings.definition().parse(processEnv);
      // Before the sample image server, the first HTTP server of this process: the JDK reads it once.
      HttpRequestDeadline.apply(RuntimeSettings.definition().parse(processEnv).get(RuntimeSettings.HTTP_REQUEST_TIMEOUT));
    } catch (ConfigException e) {
      System.err.println("demo: " + e.getMessage());
      return ExitCode.CONFIG_ERROR;
    }
    Path data = Path.of("data").toAbsolutePath();
    Path stackDir = Path.of(stackConfig.get(StackSettings.DATA_DIR)).toAbsolutePath();
    FashionMnist dataset = FashionMnist.debian();
    if (!dataset.isAvailable()) {
      System.err.println("demo: Fashion-MNIST not found in " + FashionMnist.DEBIAN_DIR
          + " (apt-get install dataset-fashion-mnist, or ./visual-search setup)");
      return ExitCode.CONFIG_ERROR;
    }
    DemoEnvironment environment = new DemoEnvironment(processEnv, data);
    if (!Files.isDirectory(environment.modelBasePath().resolve("default"))) {
      System.err.println("demo: no exported model under " + environment.modelBasePath()
          + " (run ./visual-search build)");
      return ExitCode.CONFIG_ERROR;
    }
    try {
      // Servers a SIGKILLed demo left running: their PID files go with the directory below.
      EmbeddedStack.stopLeftovers(stackDir);
      if (!options.keepData()) {
        DemoFiles.deleteStackData(stackDir, Path.of(StackSettings.DATA_DIR.defaultValue()));
      }
      String apiKey = DemoFiles.apiKey(data.resolve("demo/api-key"));
      return run(options, stackConfig, dataset, environment, apiKey);
    } catch (DemoFiles.NotStackData e) {
      System.err.println("demo: " + e.getMessage());
      return ExitCode.CONFIG_ERROR;
    } catch (IOException e) {
      System.err.println("demo: " + e.getMessage());
      return ExitCode.START_FAILED;
    }
  }

  private static ExitCode run(DemoOptions options, Config stackConfig, FashionMnist dataset,
      DemoEnvironment environment, String apiKey) throws IOException {
    long t0 = System.nanoTime();
    say("starting the embedded stack (Kafka KRaft, S3-compatible store, Zipkin) on 127.0.0.1");
    EmbeddedStack stack = new EmbeddedStack(stackConfig);
    SampleImageServer images = new SampleImageServer(dataset, 0);
    AtomicReference<LocalPipeline> services = new AtomicReference<>();
    // Stops in order exactly once, whether the demo ends by itself or by Ctrl-C.
    Runnable stopAll = new Once(() -> {
      LocalPipeline running = services.get();
      if (running != null) {
        running.close();
      }
    }, images::close, stack::close);
    // From before the stack starts: a SIGTERM or Ctrl-C at any point (the ingest wait is minutes)
    // must stop s3proxy and Zipkin, which are processes of their own and outlive this JVM.
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      stopAll.run();
      stopped.countDown();
    }, "demo-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      stack.start();
      images.start();
      SampleShop shop = new SampleShop(TENANT, environment.dataDir().resolve("demo/feed-" + TENANT + ".tsv"),
          dataset, images.baseUrl(), options.size());
      say("sample catalog: " + shop.size() + " Fashion-MNIST products in " + shop.feed()
          + ", images served at " + images.baseUrl());
      LocalPipeline pipeline = new LocalPipeline(
          environment.services(stack.serviceEnvironment(), shop.source(), TENANT, apiKey));
      services.set(pipeline);
      say("starting model-server, response-consumer, search-api, index-builder, embeddings-generator,"
          + " image-indexer, catalog-downloader");
      pipeline.start();
      URI storefront = URI.create("http://127.0.0.1:" + pipeline.searchApi().httpPort() + "/");
      SearchClient client = new SearchClient(storefront, apiKey);
      say("ingesting: feed -> catalog-downloader -> image-indexer -> embeddings-generator -> index-builder"
          + " -> search-api");
      // Every product, not a sample: the index-builder's first publications and the search-api's
      // fresh-vector delta make a few products searchable well before the rest, and the sample
      // query below would then rank a half-ingested catalog.
      PipelineProgress stages = new PipelineProgress(storefront);
      IngestProbe probe = new IngestProbe(client, shop, shop.size());
      Consumer<String> progress = p -> {
        String handled = stages.line();
        say("  " + p + (handled.isEmpty() ? "" : "; " + handled));
      };
      IngestProbe.Outcome ingest =
          probe.await(options.timeout(), () -> pipeline.stoppedService().isPresent(), progress);
      if (ingest == IngestProbe.Outcome.ABORTED) {
        return serviceStopped(pipeline);
      }
      if (ingest == IngestProbe.Outcome.TIMED_OUT) {
        String problem = probe.lastProblem();
        System.err.println("demo: the catalog did not become searchable within " + options.timeout().toMinutes()
            + " min" + (problem == null ? "" : " (last search failed: " + problem + ")")
            + "; see the services' logs above and the traces at " + stack.zipkin().baseUrl() + "/zipkin/");
        return ExitCode.FAILED;
      }
      say(String.format("catalog searchable after %.1f s", (System.nanoTime() - t0) / 1e9));
      SearchClient.Answer answer = new ShopperQuery(dataset, client).runAndPrint(System.out);
      if (!answer.ok()) {
        return ExitCode.FAILED;
      }
      System.out.println();
      // The key in the fragment: the page takes it from there, and a fragment never reaches a server.
      System.out.println("storefront    " + storefront + "#key=" + apiKey + "   (tenant " + TENANT
          + "; the link carries its API key, also in data/demo/api-key)");
      System.out.println("api key       " + apiKey);
      System.out.println("health page   " + storefront.resolve("/ops/health"));
      System.out.println("query trace   " + stack.zipkin().baseUrl() + "/zipkin/traces/" + answer.traceId());
      System.out.println("feed          " + shop.feed() + "   (edit it; changes are searchable after the next sync)");
      Path stackEnv = environment.dataDir().resolve("demo/stack.env");
      DemoFiles.stackEnvironment(stackEnv, stack.serviceEnvironment());
      System.out.println("model rollout set -a; . " + stackEnv + "; ./visual-search finetune --catalog-tenant " + TENANT
          + "   (trains on this catalog, publishes the next model version; answers switch to it)");
      if (options.exitAfterIngest()) {
        return ExitCode.OK;
      }
      System.out.println("Ctrl-C stops the demo.");
      // A service that fails after the ingest must end the demo, not leave it running broken.
      while (!stopped.await(1, TimeUnit.SECONDS)) {
        if (pipeline.stoppedService().isPresent()) {
          return serviceStopped(pipeline);
        }
      }
      return ExitCode.OK;
    } catch (ConfigException e) {
      // A service setting from the environment (SEARCH_HTTP_PORT=abc): the user's to fix, as the stack's are.
      System.err.println("demo: " + e.getMessage());
      return ExitCode.CONFIG_ERROR;
    } catch (ServiceStartException e) {
      System.err.println("demo: " + e.getMessage());
      return ExitCode.START_FAILED;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return ExitCode.OK;
    } catch (Exception e) {
      System.err.println("demo: " + e);
      return ExitCode.START_FAILED;
    } finally {
      stopAll.run();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // The hook is what is running this stop.
      }
    }
  }

  private static ExitCode serviceStopped(LocalPipeline pipeline) {
    System.err.println("demo: " + pipeline.stoppedService().orElse("a service") + " stopped (error above)");
    return ExitCode.FAILED;
  }

  private static void say(String line) {
    System.out.println("demo: " + line);
  }

}
