package io.visualsearch.modelclient;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Everything besides the model and its version that decides an image's vector: the signature and
 * output called, and how images are shaped before they are sent. Vectors of one variant are not
 * comparable with another's, even at the same dimension. Its {@link #name()} travels in embeddings
 * records and index manifests, so that a reader can embed a query the way the index's vectors were.
 */
public record VectorVariant(String signature, String output, int imageSize, boolean sendSmallAsIs) {

  private static final String AS_IS = "as-is";
  private static final String RESIZED = "resized";
  /** Parsed for every query's answer: compiled once. */
  private static final Pattern SIZE = Pattern.compile("[1-9][0-9]{0,4}px");

  /** {@code <signature>.<output>.<size>px.<as-is|resized>}, e.g. {@code serving_default.embedding.224px.as-is}. */
  public String name() {
    return signature + "." + output + "." + imageSize + "px." + (sendSmallAsIs ? AS_IS : RESIZED);
  }

  /**
   * The variant {@code name} stands for, given the {@code signature} recorded beside it (a
   * signature or an output may contain dots: only the signature tells where the output begins).
   * Empty when the name is not one {@link #name()} writes for that signature.
   */
  public static Optional<VectorVariant> parse(String name, String signature) {
    if (name == null || signature == null || signature.isEmpty() || !name.startsWith(signature + ".")) {
      return Optional.empty();
    }
    String rest = name.substring(signature.length() + 1);
    int modeDot = rest.lastIndexOf('.');
    int sizeDot = modeDot <= 0 ? -1 : rest.lastIndexOf('.', modeDot - 1);
    if (sizeDot <= 0) {
      return Optional.empty();
    }
    String mode = rest.substring(modeDot + 1);
    String size = rest.substring(sizeDot + 1, modeDot);
    if (!(mode.equals(AS_IS) || mode.equals(RESIZED)) || !SIZE.matcher(size).matches()) {
      return Optional.empty();
    }
    return Optional.of(new VectorVariant(signature, rest.substring(0, sizeDot),
        Integer.parseInt(size.substring(0, size.length() - 2)), mode.equals(AS_IS)));
  }
}
