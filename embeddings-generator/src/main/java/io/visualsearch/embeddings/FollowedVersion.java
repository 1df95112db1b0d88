package io.visualsearch.embeddings;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The model version whose vectors this deployment is putting into the embeddings topic, and the
 * consumer group that reads images.ready for it. Every instance of the deployment derives its
 * group from this one record, so they share it, and a restart resumes it.
 *
 * <p>A version above every version followed before gets its plain group ({@code <base>.v<N>}),
 * never used, so it starts from the beginning of images.ready and re-embeds the catalog. A version
 * followed again after another one (a rollback, or the newer version coming back) gets a group
 * never used either ({@code <base>.v<N>.replay-<k>}): its old group's offsets would resume where
 * it stopped, and every product not changed since would keep the other version's vector.
 *
 * @param version the followed version
 * @param group the consumer group embedding the catalog with it
 * @param highest the highest version this deployment has followed
 * @param replays how many replay groups this deployment has started (the next one is numbered after it)
 * @param upgradedFrom after an upgrade, the version followed before and its group, whose loops may
 *     still embed the catalog's changes on some instances while this group replays (null: none)
 */
record FollowedVersion(long version, String group, long highest, int replays, Previous upgradedFrom) {

  /** A version followed before this one and the consumer group it was embedded in. */
  record Previous(long version, String group) {}


  private static final Pattern GROUP = Pattern.compile("\\.v(\\d+)(?:\\.replay-(\\d+))?");

  FollowedVersion {
    if (version < 0 || highest < version || replays < 0 || group == null || group.isEmpty()) {
      throw new IllegalArgumentException("inconsistent followed version: " + version + " " + group + " " + highest
          + " " + replays);
    }
    if (upgradedFrom != null && (upgradedFrom.version() >= version || upgradedFrom.group() == null
        || upgradedFrom.group().isEmpty())) {
      throw new IllegalArgumentException("inconsistent previous version: " + upgradedFrom + " before " + version);
    }
  }

  FollowedVersion(long version, String group, long highest, int replays) {
    this(version, group, highest, replays, null);
  }

  static String plainGroup(String base, long version) {
    return base + ".v" + version;
  }

  /**
   * What to follow when no record exists (a new deployment, or one that ran before the record was
   * kept): the groups of earlier versions still on the broker tell whether {@code served} is a step
   * back, as when the process restarts in the middle of a rollback.
   */
  static FollowedVersion first(long served, String base, Collection<String> existingGroups) {
    long highest = served;
    int replays = 0;
    for (String g : existingGroups) {
      if (!g.startsWith(base)) {
        continue;
      }
      Matcher m = GROUP.matcher(g.substring(base.length()));
      if (m.matches()) {
        highest = Math.max(highest, Long.parseLong(m.group(1)));
        if (m.group(2) != null) {
          replays = Math.max(replays, Integer.parseInt(m.group(2)));
        }
      }
    }
    if (highest > served) {
      return new FollowedVersion(served, base + ".v" + served + ".replay-" + (replays + 1), highest, replays + 1);
    }
    return new FollowedVersion(served, plainGroup(base, served), served, replays);
  }

  /** What to follow once {@code served} is the version to embed with; this record itself if it already is. */
  FollowedVersion switchTo(long served, String base) {
    if (served == version) {
      return this;
    }
    // An upgrade (a newer version than the one followed) names the group it takes over from: an
    // instance starting mid-rollout learns from it which loops its replay must let go first.
    Previous before = served > version ? new Previous(version, group) : null;
    if (served > highest) {
      return new FollowedVersion(served, plainGroup(base, served), served, replays, before);
    }
    return new FollowedVersion(served, base + ".v" + served + ".replay-" + (replays + 1), highest, replays + 1, before);
  }

  /** Whether this group re-embeds the catalog after another version was followed. */
  boolean replay() {
    return group.contains(".replay-");
  }

  byte[] encode() {
    Properties p = new Properties();
    p.setProperty("version", Long.toString(version));
    p.setProperty("group", group);
    p.setProperty("highest", Long.toString(highest));
    p.setProperty("replays", Integer.toString(replays));
    if (upgradedFrom != null) {
      p.setProperty("upgraded-from.version", Long.toString(upgradedFrom.version()));
      p.setProperty("upgraded-from.group", upgradedFrom.group());
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      p.store(out, "embeddings-generator: the model version followed and its consumer group");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  static FollowedVersion decode(byte[] bytes) {
    Properties p = new Properties();
    try {
      p.load(new ByteArrayInputStream(bytes));
      // Records written before the upgrade's origin was kept have none: nothing to wait for.
      String fromVersion = p.getProperty("upgraded-from.version");
      Previous from = fromVersion == null ? null
          : new Previous(Long.parseLong(fromVersion), p.getProperty("upgraded-from.group"));
      return new FollowedVersion(Long.parseLong(p.getProperty("version")), p.getProperty("group"),
          Long.parseLong(p.getProperty("highest")), Integer.parseInt(p.getProperty("replays")), from);
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException("unreadable followed-version record: " + e.getMessage(), e);
    }
  }
}
