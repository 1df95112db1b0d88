package io.visualsearch.searchapi.search;

import java.util.List;

/**
 * @param fetched the candidate list length finally asked from each shard (over-fetch for filters)
 */
public record SearchAnswer(List<SearchHit> hits, String indexVersion, long modelVersion, int fetched) {}
