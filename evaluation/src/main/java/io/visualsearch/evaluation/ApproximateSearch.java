package io.visualsearch.evaluation;

/** An approximate index measured against the exact one: recall@10 of its top 10, and throughput. */
public record ApproximateSearch(String description, double recallAt10, double queriesPerSecond) {}
