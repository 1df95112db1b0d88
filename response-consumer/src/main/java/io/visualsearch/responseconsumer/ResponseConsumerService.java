package io.visualsearch.responseconsumer;

import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigDef;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreSettings;
import io.visualsearch.pipeline.PipelineService;
import io.visualsearch.runtime.ServiceHost;
import io.visualsearch.runtime.ScratchDirectory;
import io.visualsearch.topics.Topics;
import java.nio.file.Path;
import java.util.List;

/**
 * Wires response-consumer: two consumer loops in one group, so a long similar-items run after an
 * index publication never holds up the upload of answered searches.
 */
public final class ResponseConsumerService {

  public static final String NAME = "response-consumer";

  private ResponseConsumerService() {}

  public static ConfigDef definition() {
    return new ConfigDef().include(PipelineService.definition()).include(ObjectStoreSettings.definition())
        .include(ResponseConsumerSettings.definition());
  }

  public static void wire(Config config, ServiceHost host) {
    PipelineService pipeline = new PipelineService(NAME, config, host);
    ObjectStore store = pipeline.add(ObjectStore.fromConfig(config, false));
    // search-api's: this instance's part of the directory, and what crashed instances left there is swept.
    ScratchDirectory scratch = pipeline.add(new ScratchDirectory(Path.of(config.get(ResponseConsumerSettings.INDEX_DIR))));
    // Each answer is its own key (search-api keys them tenant/request-id), so its PUT need not
    // wait for the one before it: one at a time, a busy tenant's answers queued faster than written.
    pipeline.consume(List.of(Topics.SEARCH_RESPONSES.name()), new ResponseArchiver(store),
        config.get(ResponseConsumerSettings.ARCHIVE_CONCURRENCY), pipeline.kafkaClients().groupId(NAME));
    // One publication a poll: each is a job of seconds to minutes, committed as soon as it is done.
    // A component too: a stop on request takes back the start of the job in flight.
    SimilarItemsJob similar = pipeline.add(new SimilarItemsJob(store, scratch.path(), pipeline.tracing().tracer(),
        config.get(ResponseConsumerSettings.SIMILAR_K), config.get(ResponseConsumerSettings.SIMILAR_BATCH),
        config.get(ResponseConsumerSettings.SIMILAR_NATIVE_MEMORY)));
    pipeline.consumeOneAtATime(List.of(Topics.INDEX_PUBLISHED.name()), similar);
    pipeline.heartbeat();
  }
}
