package io.visualsearch.embeddings;

import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigDef;
import io.visualsearch.modelclient.ModelClient;
import io.visualsearch.modelclient.ModelClientSettings;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreSettings;
import io.visualsearch.pipeline.PipelineService;
import io.visualsearch.runtime.ServiceHost;
import io.visualsearch.topics.Topics;
import java.util.List;

/** Wires the embeddings-generator: images.ready → model server → embeddings. */
public final class EmbeddingsGeneratorService {

  public static final String NAME = "embeddings-generator";

  private EmbeddingsGeneratorService() {}

  public static ConfigDef definition() {
    return new ConfigDef().include(PipelineService.definition()).include(ObjectStoreSettings.definition())
        .include(ModelClientSettings.definition()).include(EmbeddingsSettings.definition());
  }

  public static void wire(Config config, ServiceHost host) {
    PipelineService pipeline = new PipelineService(NAME, config, host);
    ObjectStore store = pipeline.add(ObjectStore.fromConfig(config, false));
    ModelClient model = pipeline.add(new ModelClient(config, pipeline.tracing()));
    VectorCache cache = new VectorCache(store, model.vectorVariant(), config.get(EmbeddingsSettings.CACHE_ENTRIES));
    String groupBase = groupBase(pipeline.kafkaClients().groupId(NAME), model.modelName(), model.vectorVariant());
    int concurrency = config.get(EmbeddingsSettings.CONCURRENCY);
    BrokerConsumerGroups broker = new BrokerConsumerGroups(config);
    pipeline.add(new ModelVersionFollower(model.modelName(), model::servedVersion, new EmbeddingProbe(model),
        new ObjectStoreFollowedVersions(store, groupBase), broker,
        (version, group, gate, notServed) -> pipeline.loop(List.of(Topics.IMAGES_READY.name()),
            new EmbedImageHandler(store, model, cache, version, gate, notServed), concurrency, group),
        broker, groupBase, config.get(EmbeddingsSettings.MODEL_POLL)));
    pipeline.heartbeat();
  }

  /**
   * {@code <group id>.<model>.<variant>}: the vector variant (signature, output, image shaping) is
   * part of every group's name, so a generator reconfigured to another signature of the same model
   * version starts a group of its own and re-embeds the whole catalog, instead of resuming the old
   * group's offsets and leaving every unchanged product with the old layer's vector (RATIONALE.md).
   */
  static String groupBase(String groupId, String modelName, String vectorVariant) {
    return groupId + "." + modelName + "." + vectorVariant;
  }
}
