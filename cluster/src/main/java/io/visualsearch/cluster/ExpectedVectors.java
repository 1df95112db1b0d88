package io.visualsearch.cluster;

import io.visualsearch.config.Config;
import io.visualsearch.imagevalidation.ImageValidator;
import io.visualsearch.imagevalidation.NormalisedImage;
import io.visualsearch.imagevalidation.ValidationPolicy;
import io.visualsearch.imagevalidation.ValidationResult;
import io.visualsearch.modelclient.Embeddings;
import io.visualsearch.modelclient.ModelClient;
import io.visualsearch.modelclient.ModelClientSettings;
import io.visualsearch.tracing.Tracing;
import io.visualsearch.tracing.TracingSettings;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The ground truth for "not stale": the embedding of a product's CURRENT photo by the model
 * version the model server serves now, computed independently of the pipeline — the photo is
 * normalised the way image-indexer does it (the shared image-validation rules: 8-bit sRGB PNG,
 * never upscaled) and embedded through the TF-Serving API the embeddings-generator uses.
 * Vectors are cached per (training image, model version); a new served version recomputes.
 */
public final class ExpectedVectors implements AutoCloseable {

  private static final int BATCH = 16;

  private final SampleCatalog catalog;
  private final ModelClient model;
  private final Tracing tracing;
  private final ImageValidator validator = new ImageValidator(ValidationPolicy.defaults());
  private final Map<Integer, float[]> cache = new HashMap<>();
  private long cachedVersion = -1;

  public ExpectedVectors(SampleCatalog catalog, Map<String, String> clientEnv) {
    this.catalog = catalog;
    Config config = ModelClientSettings.definition().include(TracingSettings.definition()).parse(clientEnv);
    this.tracing = Tracing.create("chaos-reconciler", "1", config);
    this.model = new ModelClient(config, tracing);
    model.start();
  }

  /** The newest version the model server serves; -1 when it serves none. */
  public long servedVersion() throws Exception {
    return model.servedVersion().orElse(-1);
  }

  /** Embeddings of the given training images by {@code version}, computing the missing ones in batches. */
  public synchronized Map<Integer, float[]> vectors(Set<Integer> images, long version) throws Exception {
    if (version != cachedVersion) {
      cache.clear();
      cachedVersion = version;
    }
    List<Integer> missing = images.stream().filter(i -> !cache.containsKey(i)).sorted().toList();
    for (int from = 0; from < missing.size(); from += BATCH) {
      List<Integer> batch = missing.subList(from, Math.min(missing.size(), from + BATCH));
      List<BufferedImage> decoded = new ArrayList<>();
      for (int index : batch) {
        decoded.add(normalised(index));
      }
      Embeddings e = model.embed(decoded, version);
      for (int i = 0; i < batch.size(); i++) {
        cache.put(batch.get(i), e.vectors()[i]);
      }
    }
    Map<Integer, float[]> out = new HashMap<>();
    for (int i : images) {
      out.put(i, cache.get(i));
    }
    return out;
  }

  private BufferedImage normalised(int trainingIndex) throws IOException {
    ValidationResult r = validator.validate(catalog.png(trainingIndex));
    if (!(r instanceof ValidationResult.Accepted accepted)) {
      throw new IllegalStateException("sample image " + trainingIndex + " rejected: " + r);
    }
    return NormalisedImage.decode(accepted.image().png());
  }

  @Override
  public void close() {
    model.close();
    tracing.close();
  }
}
