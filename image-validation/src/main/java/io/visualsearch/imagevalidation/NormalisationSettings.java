package io.visualsearch.imagevalidation;

import io.visualsearch.config.ConfigDef;
import io.visualsearch.config.Setting;

/**
 * The one normalisation setting two services read: image-indexer stores catalog pictures at this
 * size and search-api scales shoppers' photos the same way, so one deployment value serves both.
 */
public final class NormalisationSettings {

  public static final Setting<Integer> MAX_SIDE = Setting.integer("IMAGE_MAX_SIDE")
      .defaultValue(ValidationPolicy.defaults().maxOutputSide()).validate(n -> n >= 16 && n <= 4096, "between 16 and 4096")
      .doc("Longest side of the stored normalised PNG; larger images are downscaled, aspect kept. search-api"
          + " scales shoppers' photos the same way: give both services the same value.");

  private NormalisationSettings() {}

  public static ConfigDef definition() {
    return new ConfigDef().define(MAX_SIDE);
  }
}
