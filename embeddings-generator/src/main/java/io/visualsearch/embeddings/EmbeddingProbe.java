package io.visualsearch.embeddings;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.visualsearch.modelclient.Embeddings;
import io.visualsearch.modelclient.ModelClient;
import io.visualsearch.modelclient.ModelRejectedException;
import io.visualsearch.modelclient.ModelUnavailableException;
import io.visualsearch.modelclient.ModelVersionNotServedException;
import java.awt.image.BufferedImage;
import java.util.List;

/**
 * Embeds one built-in image with the version, through the same client, signature, input, output
 * and image shaping as the catalog's images. A version whose contract differs refuses this image
 * exactly as it would refuse every catalog image, and each of those would be dead-lettered.
 */
final class EmbeddingProbe implements VersionProbe {

  private final ModelClient model;
  private final BufferedImage image;

  EmbeddingProbe(ModelClient model) {
    this.model = model;
    this.image = probeImage(model.imageSize());
  }

  /**
   * A colour gradient at the side every larger catalog image is resized to, so a signature that
   * needs a fixed size accepts it whatever MODEL_SEND_SMALL_IMAGES_AS_IS says.
   */
  static BufferedImage probeImage(int side) {
    BufferedImage img = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < side; y++) {
      for (int x = 0; x < side; x++) {
        img.setRGB(x, y, (255 * x / side) << 16 | (255 * y / side) << 8 | 128);
      }
    }
    return img;
  }

  @Override
  public Result probe(long version) {
    String what = "model " + model.modelName() + " version " + version + " signature '" + model.signature() + "'";
    try {
      Embeddings e = model.embed(List.of(image), version);
      float[] v = e.vectors()[0];
      if (v.length == 0) {
        return new Result(Outcome.REFUSED, what + " returned an empty embedding");
      }
      for (float x : v) {
        if (!Float.isFinite(x)) {
          return new Result(Outcome.REFUSED, what + " returned NaN/Inf for the probe image");
        }
      }
      return Result.ACCEPTED;
    } catch (ModelRejectedException e) {
      return new Result(Outcome.REFUSED, e.getMessage());
    } catch (ModelVersionNotServedException e) {
      return new Result(Outcome.NOT_READY, e.getMessage());
    } catch (ModelUnavailableException e) {
      // TensorFlow Serving answers a signature the model lacks with FAILED_PRECONDITION, which the
      // client reports as unavailable (a configuration to fix, not an input to drop); for a
      // version the server does serve, that is a refusal of the generator's contract.
      if (e.getCause() instanceof StatusRuntimeException s && s.getStatus().getCode() == Status.Code.FAILED_PRECONDITION) {
        return new Result(Outcome.REFUSED, what + ": " + s.getStatus().getDescription());
      }
      return new Result(Outcome.NOT_READY, e.getMessage());
    }
  }
}
