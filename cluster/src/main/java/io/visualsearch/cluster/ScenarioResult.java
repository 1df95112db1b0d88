package io.visualsearch.cluster;

import java.util.List;

/**
 * How one fault scenario ended: its reconciliation, and each recovery it waited for that never
 * came (services not all ready again, ingest not converged, queries not answered again, a member
 * dead or not ready when it ended). The indexes can reconcile clean while a member is dead, its
 * replica having done its work, so the suite passes a scenario only when both say so.
 */
record ScenarioResult(Reconciliation reconciliation, List<String> notRecovered) {

  ScenarioResult {
    notRecovered = List.copyOf(notRecovered);
  }

  /** Passed, given the queries that failed outside a declared outage while it ran. */
  boolean passed(long failedQueries) {
    return reconciliation.clean() && failedQueries == 0 && notRecovered.isEmpty();
  }
}
