package io.visualsearch.searchapi;

import io.visualsearch.config.Config;
import io.visualsearch.pipeline.PipelineService;
import io.visualsearch.runtime.RuntimeSettings;
import io.visualsearch.runtime.ServiceHost;
import io.visualsearch.stack.EmbeddedStack;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A real pipeline service for tests of the health page: the shared consumer loop over one topic
 * with a handler that accepts everything, and the shared heartbeat. Its activity on the page is
 * therefore the loop's own count, not a number the test made up.
 */
final class PipelineWorker implements AutoCloseable {

  private final ServiceHost host;

  PipelineWorker(EmbeddedStack stack, String service, String instance, String topic, String heartbeatInterval)
      throws Exception {
    Map<String, String> env = new HashMap<>(stack.serviceEnvironment());
    env.put("ZIPKIN_ENDPOINT", "none");
    env.put("OPS_PORT", "0");
    env.put("SERVICE_INSTANCE_ID", instance);
    env.put("KAFKA_GROUP_ID", "it-" + service);
    env.put("HEALTH_HEARTBEAT_INTERVAL", heartbeatInterval);
    Config config = PipelineService.definition().include(RuntimeSettings.definition()).parse(env);
    host = new ServiceHost(service);
    PipelineService pipeline = new PipelineService(service, config, host);
    pipeline.consume(List.of(topic), (record, out) -> { });
    pipeline.heartbeat();
    host.start();
  }

  @Override
  public void close() {
    host.close();
  }
}
