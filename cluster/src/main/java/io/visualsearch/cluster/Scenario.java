package io.visualsearch.cluster;

/** One fault scenario; it ends with a full reconciliation, which it returns. */
interface Scenario {

  String name();

  Reconciliation run(ChaosContext ctx) throws Exception;
}
