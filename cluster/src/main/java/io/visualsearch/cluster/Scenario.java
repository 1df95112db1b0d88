package io.visualsearch.cluster;

/** One fault scenario; it ends with a full reconciliation and the recoveries that never came. */
interface Scenario {

  String name();

  ScenarioResult run(ChaosContext ctx) throws Exception;
}
