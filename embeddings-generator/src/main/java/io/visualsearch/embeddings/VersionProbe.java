package io.visualsearch.embeddings;

/** Asks one model version whether it answers the generator's calls before the generator switches to it. */
interface VersionProbe {

  enum Outcome {
    /** It embedded the probe image: the catalog may be sent to it. */
    ACCEPTED,
    /** It refuses the generator's signature, input or output: every image would be refused alike. */
    REFUSED,
    /** No answer about the contract yet (server down, overloaded, version not loaded): ask again later. */
    NOT_READY
  }

  record Result(Outcome outcome, String reason) {
    static final Result ACCEPTED = new Result(Outcome.ACCEPTED, "ok");
  }

  Result probe(long version);
}
