package io.visualsearch.catalogfeed;

import java.util.ArrayList;
import java.util.List;

/** Keeps what a parse delivered, for assertions. */
final class CollectingSink implements FeedSink {
  final List<Product> products = new ArrayList<>();
  final List<RowError> errors = new ArrayList<>();

  @Override
  public void product(Product product, long line) {
    products.add(product);
  }

  @Override
  public void rowError(RowError error) {
    errors.add(error);
  }

  List<String> ids() {
    return products.stream().map(Product::id).toList();
  }
}
