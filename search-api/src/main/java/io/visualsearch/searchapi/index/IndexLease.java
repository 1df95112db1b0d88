package io.visualsearch.searchapi.index;

/** A query's hold on one index version; closing it (once) lets a retired version be freed. */
public final class IndexLease implements AutoCloseable {

  private final LoadedIndex index;
  private boolean closed;

  IndexLease(LoadedIndex index) {
    this.index = index;
  }

  public LoadedIndex index() {
    if (closed) {
      throw new IllegalStateException("lease already closed");
    }
    return index;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      index.release();
    }
  }
}
