package io.visualsearch.benchmarks.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** Rates of repeated rounds of one measurement; the best round is the estimate on a shared machine. */
final class RoundBest {

  private final List<Double> rates = new ArrayList<>();

  void add(double rate) {
    rates.add(rate);
  }

  double best() {
    return rates.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
  }

  @Override
  public String toString() {
    return rates.stream().map(r -> String.format(Locale.ROOT, "%.1f", r)).collect(Collectors.joining(" "));
  }
}
