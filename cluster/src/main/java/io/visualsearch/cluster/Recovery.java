package io.visualsearch.cluster;

import java.util.ArrayList;
import java.util.List;

/** What a scenario waits for after its fault, and which of it never came (a failure of the suite). */
final class Recovery {

  private final List<String> missing = new ArrayList<>();

  /**
   * Notes how a wait ended, in seconds or negative for never, and returns it as the scenario
   * prints it; one that never ended is {@code what} did not recover.
   */
  String waited(String what, double seconds) {
    if (seconds < 0) {
      missing.add(what);
    }
    return shown(seconds);
  }

  void missed(String what) {
    missing.add(what);
  }

  List<String> missing() {
    return List.copyOf(missing);
  }

  static String shown(double seconds) {
    return seconds < 0 ? "NEVER" : String.format("%.1f s", seconds);
  }
}
