package io.visualsearch.catalogfeed;

import java.util.List;
import java.util.Map;

/**
 * A row as a format reader extracted it: attribute name (normalised, see
 * {@link AttributeNames}) to its values in feed order; most attributes have one value.
 */
record RawRow(long line, Map<String, List<String>> attributes) {}
