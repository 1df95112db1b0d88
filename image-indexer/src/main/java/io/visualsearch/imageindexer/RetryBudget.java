package io.visualsearch.imageindexer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Counts retry rounds per record. The consumer loop retries a retriable failure for ever, which is
 * right when our own store or network is down but would let one retailer's dead image host stall
 * the partition: after {@code maxRounds} the record is dead-lettered instead. Rounds are not spent
 * while {@link OutboundNetwork} says our own way out looks down. In memory only: a
 * restart grants a fresh budget, which errs on the side of not losing products.
 */
final class RetryBudget {

  private static final int MAX_TRACKED = 10_000;

  private final int maxRounds;
  private final Map<String, Integer> rounds = new LinkedHashMap<>(64, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Integer> eldest) {
      return size() > MAX_TRACKED;
    }
  };

  /** {@code maxRounds == 0}: never give up. */
  RetryBudget(int maxRounds) {
    this.maxRounds = maxRounds;
  }

  /** Records one more failed round; true when the record has used its budget. */
  synchronized boolean spend(String recordId) {
    int n = rounds.merge(recordId, 1, Integer::sum);
    if (maxRounds > 0 && n >= maxRounds) {
      rounds.remove(recordId);
      return true;
    }
    return false;
  }

  synchronized int rounds(String recordId) {
    return rounds.getOrDefault(recordId, 0);
  }

  synchronized void forget(String recordId) {
    rounds.remove(recordId);
  }

  int maxRounds() {
    return maxRounds;
  }
}
