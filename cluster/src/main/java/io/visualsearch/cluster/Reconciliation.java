package io.visualsearch.cluster;

import java.util.List;

/** Every tenant's reconciliation; its totals make the suite's last line. */
public record Reconciliation(List<TenantReconciliation> tenants) {

  public int expected() {
    return tenants.stream().mapToInt(TenantReconciliation::expected).sum();
  }

  public int found() {
    return tenants.stream().mapToInt(TenantReconciliation::found).sum();
  }

  public int lost() {
    return tenants.stream().mapToInt(TenantReconciliation::lost).sum();
  }

  public int stale() {
    return tenants.stream().mapToInt(TenantReconciliation::stale).sum();
  }

  public int duplicate() {
    return tenants.stream().mapToInt(TenantReconciliation::duplicate).sum();
  }

  public boolean clean() {
    return tenants.stream().allMatch(TenantReconciliation::clean);
  }

  /** The machine-readable line ARCHITECTURE.md fixes for {@code chaos}. */
  public String summary(long failedQueries) {
    return "expected=" + expected() + " found=" + found() + " lost=" + lost() + " stale=" + stale()
        + " duplicate=" + duplicate() + " failed_queries=" + failedQueries;
  }

  /** Adds another reconciliation's counts (the suite's total over scenarios). */
  public static String total(List<Reconciliation> all, long failedQueries) {
    int e = 0, f = 0, l = 0, s = 0, d = 0;
    for (Reconciliation r : all) {
      e += r.expected();
      f += r.found();
      l += r.lost();
      s += r.stale();
      d += r.duplicate();
    }
    return "expected=" + e + " found=" + f + " lost=" + l + " stale=" + s + " duplicate=" + d
        + " failed_queries=" + failedQueries;
  }
}
