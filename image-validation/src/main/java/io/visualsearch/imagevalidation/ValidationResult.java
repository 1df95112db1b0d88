package io.visualsearch.imagevalidation;

/** Outcome of {@link ImageValidator#validate}: an accepted image or a reasoned rejection. */
public sealed interface ValidationResult {

  record Accepted(NormalisedImage image) implements ValidationResult {}

  record Rejected(RejectReason reason, String message) implements ValidationResult {}
}
