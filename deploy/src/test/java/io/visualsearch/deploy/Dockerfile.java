package io.visualsearch.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The instructions of one Dockerfile, continuation lines joined, comments dropped. */
record Dockerfile(Path path, List<String[]> instructions) {

  static Dockerfile read(Path path) throws IOException {
    List<String[]> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    for (String line : Files.readAllLines(path)) {
      String t = line.strip();
      if (cur.isEmpty() && (t.isEmpty() || t.startsWith("#"))) {
        continue;
      }
      if (t.startsWith("#")) {
        continue;
      }
      if (t.endsWith("\\")) {
        cur.append(t, 0, t.length() - 1).append(' ');
        continue;
      }
      cur.append(t);
      String full = cur.toString().strip();
      cur.setLength(0);
      int sp = full.indexOf(' ');
      out.add(new String[] {full.substring(0, sp < 0 ? full.length() : sp).toUpperCase(),
          sp < 0 ? "" : full.substring(sp + 1).strip()});
    }
    return new Dockerfile(path, out);
  }

  List<String> args(String instruction) {
    return instructions.stream().filter(i -> i[0].equals(instruction)).map(i -> i[1]).toList();
  }

  String single(String instruction) {
    List<String> all = args(instruction);
    if (all.size() != 1) {
      throw new AssertionError(path + ": expected exactly one " + instruction + ", found " + all.size());
    }
    return all.get(0);
  }

  private static final Pattern KV = Pattern.compile("([A-Za-z_][A-Za-z0-9_.-]*)=(\"([^\"]*)\"|(\\S*))");

  /** ENV and LABEL in key=value form. */
  Map<String, String> keyValues(String instruction) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String a : args(instruction)) {
      Matcher m = KV.matcher(a);
      boolean any = false;
      while (m.find()) {
        any = true;
        out.put(m.group(1), m.group(3) != null ? m.group(3) : m.group(4));
      }
      if (!any) {
        throw new AssertionError(path + ": " + instruction + " " + a + " is not in key=value form");
      }
    }
    return out;
  }

  /** The exec form of ENTRYPOINT, as its JSON array of strings. */
  List<String> entrypoint() {
    String e = single("ENTRYPOINT");
    if (!e.startsWith("[") || !e.endsWith("]")) {
      throw new AssertionError(path + ": ENTRYPOINT must use the exec form (JSON array), so signals reach java");
    }
    List<String> out = new ArrayList<>();
    Matcher m = Pattern.compile("\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(e.substring(1, e.length() - 1));
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }
}
