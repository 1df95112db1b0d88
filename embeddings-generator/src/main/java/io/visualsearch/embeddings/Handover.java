package io.visualsearch.embeddings;

import io.visualsearch.runtime.Component;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The previous version's loop, kept running during a rollout so the catalog's changes go on being
 * embedded with the version the model server still serves, within seconds, while the new version's
 * group re-embeds the whole catalog from the beginning of images.ready (hours for a large one).
 * ModelVersionFollower closes it once that replay has reached the end offsets images.ready had at
 * the switch.
 *
 * <p>As the replay's {@link EmbedImageHandler.Gate}, it holds back every record the previous
 * version's group has not committed yet while that group has members (on any instance): the
 * embeddings topic keeps only a product's last vector, and a previous-version vector landing after
 * the new version's one would leave the product on the previous version for good, once that loop
 * stops. A committed offset comes after its records' vectors were acknowledged, so the new
 * version's vector of a record always comes after the previous version's.
 *
 * <p>An instance that starts mid-rollout runs no previous loop of its own ({@link #awaiting}): it
 * only holds its replay behind the loops other instances still run in the previous group.
 */
final class Handover implements EmbedImageHandler.Gate {

  final long previousVersion;
  final String previousGroup;
  /** Per partition, the end offset of images.ready when the new version's loop started. */
  final Map<Integer, Long> replayUntil;
  /** This instance's loop of the previous version; null when only other instances run one. */
  private final Component previousLoop;
  private volatile boolean previousClosed;
  /** The previous group's committed offsets, as last read from the broker. */
  private volatile Map<Integer, Long> previousCommitted;
  /** No loop of the previous group is left on any instance: nothing is held any more. */
  private volatile boolean open;
  private volatile boolean previousNotServed;

  Handover(long previousVersion, String previousGroup, Component previousLoop, Map<Integer, Long> replayUntil,
      Map<Integer, Long> previousCommitted) {
    this.previousVersion = previousVersion;
    this.previousGroup = previousGroup;
    this.previousLoop = previousLoop;
    this.replayUntil = Map.copyOf(replayUntil);
    this.previousCommitted = Map.copyOf(previousCommitted);
    this.previousClosed = previousLoop == null;
  }

  /**
   * The gate of a replay started while other instances may still run the previous version's loop
   * in {@code previousGroup}, which has committed {@code previousCommitted} so far.
   */
  static Handover awaiting(long previousVersion, String previousGroup, Map<Integer, Long> previousCommitted) {
    return new Handover(previousVersion, previousGroup, null, Map.of(), previousCommitted);
  }

  @Override
  public String holds(ConsumerRecord<byte[], byte[]> rec) {
    if (open) {
      return null;
    }
    Long committed = previousCommitted.get(rec.partition());
    if (committed != null && rec.offset() < committed) {
      return null;
    }
    return "version " + previousVersion + " (group " + previousGroup + ") has not embedded " + rec.topic() + "-"
        + rec.partition() + "@" + rec.offset() + " yet: its vector must not land after this version's";
  }

  void previousCommitted(Map<Integer, Long> committed) {
    previousCommitted = Map.copyOf(committed);
  }

  /** The previous group has no member left: the replay handles every record from now on. */
  void open() {
    open = true;
  }

  /** Whether the replay has reached the end offsets of the switch on every partition. */
  boolean replayCaughtUp(Map<Integer, Long> replayCommitted) {
    for (Map.Entry<Integer, Long> e : replayUntil.entrySet()) {
      if (e.getValue() > 0 && replayCommitted.getOrDefault(e.getKey(), 0L) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  /** Called from the previous version's handler: the model server no longer serves it. */
  void previousNotServed() {
    previousNotServed = true;
  }

  boolean isPreviousNotServed() {
    return previousNotServed;
  }

  boolean previousRunning() {
    return !previousClosed;
  }

  Component previousLoop() {
    return previousLoop;
  }

  void beginStop() {
    if (previousLoop != null) {
      previousLoop.beginStop();
    }
  }

  /** Stops intake, drains the batch in hand (acknowledged and committed), closes. Idempotent. */
  synchronized void closePrevious() {
    if (!previousClosed && previousLoop != null) {
      previousLoop.close();
      previousClosed = true;
    }
  }
}
