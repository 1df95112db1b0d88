package io.visualsearch.embeddings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.visualsearch.modelclient.ModelUnavailableException;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/**
 * The follower's decisions, with the model server, the probe, the record and the consumer loops
 * replaced by fakes: which group each version is embedded in, across rollbacks, restarts and
 * instances sharing a deployment; when it refuses to switch; what its check says.
 */
class ModelVersionFollowerTest {

  static final String BASE = "gen.default";

  /** The model server as the follower sees it: the newest served version, one answer per call if queued. */
  static final class Server implements ModelVersionFollower.ServedVersion {
    long newest = -1;
    final Deque<Long> nextAnswers = new ArrayDeque<>();

    @Override
    public OptionalLong get() throws ModelUnavailableException {
      long v = nextAnswers.isEmpty() ? newest : nextAnswers.poll();
      return v < 0 ? OptionalLong.empty() : OptionalLong.of(v);
    }
  }

  static final class Probe implements VersionProbe {
    final Map<Long, Result> answers = new HashMap<>();
    final List<Long> asked = new ArrayList<>();

    @Override
    public Result probe(long version) {
      asked.add(version);
      return answers.getOrDefault(version, Result.ACCEPTED);
    }
  }

  /** The object in the bucket, shared by every instance of the deployment. */
  static final class Record implements FollowedVersionStore {
    FollowedVersion value;
    int tag;

    @Override
    public synchronized Read read() {
      return new Read(value, value == null ? null : Integer.toString(tag));
    }

    @Override
    public synchronized boolean replace(FollowedVersion next, Read previous) {
      String now = value == null ? null : Integer.toString(tag);
      if (!java.util.Objects.equals(now, previous.tag())) {
        return false;
      }
      value = next;
      tag++;
      return true;
    }
  }

  /** images.ready and its consumer groups on the broker; empty, as a new topic is, unless a test fills it. */
  static class Broker implements ModelVersionFollower.GroupProgress {
    final Map<Integer, Long> ends = new HashMap<>();
    final Map<String, Map<Integer, Long>> committed = new HashMap<>();
    final java.util.Set<String> withMembers = new java.util.HashSet<>();

    @Override
    public Map<Integer, Long> endOffsets() {
      return Map.copyOf(ends);
    }

    @Override
    public Map<Integer, Long> committed(String group) {
      return Map.copyOf(committed.getOrDefault(group, Map.of()));
    }

    @Override
    public boolean hasMembers(String group) {
      return withMembers.contains(group);
    }
  }

  static final class Loop implements Component {
    final long version;
    final String group;
    final EmbedImageHandler.Gate gate;
    final Runnable notServed;
    boolean started;
    boolean closed;
    volatile String wedged;

    Loop(long version, String group, EmbedImageHandler.Gate gate, Runnable notServed) {
      this.version = version;
      this.group = group;
      this.gate = gate;
      this.notServed = notServed;
    }

    boolean holds(int partition, long offset) {
      return gate.holds(new org.apache.kafka.clients.consumer.ConsumerRecord<>("images.ready", partition, offset,
          null, null)) != null;
    }

    @Override
    public String name() {
      return "loop " + group;
    }

    @Override
    public void start() {
      started = true;
    }

    @Override
    public CheckResult check() {
      return closed ? CheckResult.failed("closed") : CheckResult.OK;
    }

    @Override
    public String wedged() {
      return wedged;
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  @Test
  void theVersionsLoopStuckForGoodMakesTheFollowerWedged() {
    Instance i = new Instance();
    Loop loop = i.loopAfter(1);
    assertNull(i.follower.wedged());
    loop.wedged = "one batch handled for 3700 s without progress";
    // The loops are the follower's, not the host's: /healthz asks the follower, and restarts the process.
    assertEquals(loop.wedged, i.follower.wedged());
  }

  final Server server = new Server();
  final Record record = new Record();
  final List<String> groupsOnBroker = new ArrayList<>();
  final Broker broker = new Broker();

  final class Instance {
    final Probe probe = new Probe();
    final List<Loop> loops = new ArrayList<>();
    final ModelVersionFollower follower;

    Instance() {
      this(broker);
    }

    Instance(ModelVersionFollower.GroupProgress progress) {
      follower = new ModelVersionFollower("default", server, probe, record,
          () -> List.copyOf(groupsOnBroker), (v, g, gate, notServed) -> {
            Loop l = new Loop(v, g, gate, notServed);
            loops.add(l);
            groupsOnBroker.add(g);
            return l;
          }, progress, BASE, Duration.ofSeconds(5));
    }

    /** The loop running after a poll with {@code newest} served. */
    Loop loopAfter(long newest) {
      serve(newest);
      return running();
    }

    List<Loop> live() {
      return loops.stream().filter(l -> l.started && !l.closed).toList();
    }

    Loop running() {
      List<Loop> live = loops.stream().filter(l -> l.started && !l.closed).toList();
      assertEquals(1, live.size(), "exactly one loop runs: " + live);
      return live.get(0);
    }

    void serve(long newest) {
      server.newest = newest;
      follower.poll();
    }
  }

  @Test
  void aRollbackReEmbedsTheCatalogInAGroupThatStartsFromTheBeginning() {
    Instance gen = new Instance();
    gen.serve(1);
    assertEquals(BASE + ".v1", gen.running().group);
    gen.serve(2);
    assertEquals(BASE + ".v2", gen.running().group);
    assertTrue(gen.loops.get(0).closed, "the old version's loop stops once the new one runs");

    gen.serve(1);
    Loop replay = gen.running();
    assertEquals(1, replay.version);
    // The old group ...v1 would resume at its committed offset: products not changed since the
    // rollout would keep their version-2 vectors for good.
    assertEquals(BASE + ".v1.replay-1", replay.group);
    assertTrue(gen.follower.check().ok(), gen.follower.check().detail());

    // The newer version coming back is a step away from what the topic holds too.
    gen.serve(2);
    assertEquals(BASE + ".v2.replay-2", gen.running().group);
    gen.serve(3);
    assertEquals(BASE + ".v3", gen.running().group, "a version never followed starts its own group anyway");
  }

  @Test
  void aRestartDuringTheRollbackStillReEmbedsAndOneMidReplayContinuesIt() {
    Instance before = new Instance();
    before.serve(1);
    before.serve(2);
    before.follower.close();

    // v2 withdrawn while the process was down: it starts knowing no version.
    Instance restarted = new Instance();
    restarted.serve(1);
    assertEquals(BASE + ".v1.replay-1", restarted.running().group);
    restarted.follower.close();

    // Restarted again mid-replay: the same group resumes; a new one would start over.
    Instance again = new Instance();
    again.serve(1);
    assertEquals(BASE + ".v1.replay-1", again.running().group);
  }

  @Test
  void withoutARecordTheGroupsOfEarlierVersionsTellARollback() {
    // A deployment that followed v2 before the record was kept, restarted after v2 was withdrawn.
    groupsOnBroker.addAll(List.of(BASE + ".v1", BASE + ".v2", "other.default.v7", BASE + "x.v9"));
    Instance gen = new Instance();
    gen.serve(1);
    assertEquals(BASE + ".v1.replay-1", gen.running().group);
    assertEquals(new FollowedVersion(1, BASE + ".v1.replay-1", 2, 1), record.value);
  }

  @Test
  void withoutARecordOrHistoryTheVersionResumesItsOwnGroup() {
    groupsOnBroker.add(BASE + ".v1");
    Instance gen = new Instance();
    gen.serve(1);
    assertEquals(BASE + ".v1", gen.running().group, "an upgrade of the generator itself must not re-embed");
  }

  @Test
  void instancesOfOneDeploymentShareTheReplayGroup() {
    Instance a = new Instance();
    Instance b = new Instance();
    a.serve(1);
    b.serve(1);
    a.serve(2);
    b.serve(2);
    a.serve(1);
    b.serve(1);
    assertEquals(BASE + ".v1.replay-1", a.running().group);
    assertEquals(BASE + ".v1.replay-1", b.running().group, "one replay, shared by the group's members");
    assertEquals(1, record.value.replays());
  }

  @Test
  void anInstanceThatNeverSawTheNewerVersionJoinsTheReplay() {
    Instance a = new Instance();
    Instance b = new Instance();
    a.serve(1);
    b.serve(1);
    a.serve(2);
    a.serve(1);
    // b polled at neither moment: its version never changed, its group did.
    b.follower.poll();
    assertEquals(BASE + ".v1.replay-1", b.running().group);
  }

  @Test
  void aLateViewOfTheServerDoesNotRecordAStepBack() {
    Instance a = new Instance();
    Instance b = new Instance();
    a.serve(1);
    a.serve(2);
    // b asked the server just before v2 became available, and reads the record a's switch wrote.
    server.nextAnswers.add(1L);
    b.follower.poll();
    assertEquals(new FollowedVersion(2, BASE + ".v2", 2, 0, new FollowedVersion.Previous(1, BASE + ".v1")),
        record.value);
    assertTrue(b.loops.isEmpty());
    b.follower.poll();
    assertEquals(BASE + ".v2", b.running().group);
  }

  @Test
  void aVersionRefusingTheContractLeavesTheCurrentLoopRunningAndIsAskedAgain() {
    Instance gen = new Instance();
    gen.serve(1);
    Loop v1 = gen.running();
    gen.probe.answers.put(2L, new VersionProbe.Result(VersionProbe.Outcome.REFUSED,
        "model server refused the input: output 'embedding' is not in signature serving_default"));
    gen.serve(2);
    assertEquals(v1, gen.running(), "no loop for a version that would dead-letter the catalog");
    CheckResult c = gen.follower.check();
    assertFalse(c.ok());
    assertTrue(c.detail().contains("version 2 refuses the generator's signature/input/output"), c.detail());
    assertTrue(c.detail().contains("not in signature"), c.detail());
    assertEquals(new FollowedVersion(1, BASE + ".v1", 1, 0), record.value, "nothing recorded for a refused version");

    gen.follower.poll();
    assertEquals(List.of(1L, 2L, 2L), gen.probe.asked, "the probe is retried on later polls");
    gen.probe.answers.remove(2L);
    gen.follower.poll();
    assertEquals(BASE + ".v2", gen.running().group);
    assertTrue(gen.follower.check().ok(), gen.follower.check().detail());
  }

  @Test
  void aRefusedVersionWithdrawnAgainNoLongerFailsTheCheck() {
    Instance gen = new Instance();
    gen.serve(1);
    gen.probe.answers.put(2L, new VersionProbe.Result(VersionProbe.Outcome.REFUSED, "FAILED_PRECONDITION"));
    gen.serve(2);
    assertFalse(gen.follower.check().ok());
    gen.serve(1);
    assertTrue(gen.follower.check().ok(), gen.follower.check().detail());
  }

  @Test
  void theOnlyServedVersionRefusingTheContractStartsNothing() {
    Instance gen = new Instance();
    gen.probe.answers.put(1L, new VersionProbe.Result(VersionProbe.Outcome.REFUSED, "dtype DT_DOUBLE"));
    gen.serve(1);
    assertTrue(gen.loops.isEmpty());
    assertNull(record.value);
    assertTrue(gen.follower.check().detail().contains("version 1 refuses"), gen.follower.check().detail());
  }

  @Test
  void theCheckFailsWhileTheFollowedVersionIsNotServed() {
    Instance gen = new Instance();
    gen.serve(1);
    assertTrue(gen.follower.check().ok());
    gen.serve(-1);
    CheckResult c = gen.follower.check();
    assertFalse(c.ok(), c.detail());
    assertTrue(c.detail().contains("model version 1 is not served"), c.detail());
    gen.serve(1);
    assertTrue(gen.follower.check().ok(), gen.follower.check().detail());

    gen.serve(2);
    // v2 withdrawn, and v1 does not answer the probe yet (still loading).
    gen.probe.answers.put(1L, new VersionProbe.Result(VersionProbe.Outcome.NOT_READY, "UNAVAILABLE: loading"));
    gen.serve(1);
    c = gen.follower.check();
    assertFalse(c.ok(), c.detail());
    assertTrue(c.detail().contains("model version 2 is not served any more (the newest served is 1)"), c.detail());
    gen.probe.answers.remove(1L);
    gen.follower.poll();
    assertTrue(gen.follower.check().ok(), gen.follower.check().detail());
    assertEquals(BASE + ".v1.replay-1", gen.running().group);
  }

  @Test
  void afterAnUpgradeThePreviousVersionEmbedsChangesUntilTheReplayHasReachedTheEndOfTheSwitch() {
    Instance gen = new Instance();
    gen.serve(1);
    Loop v1 = gen.running();
    broker.ends.putAll(Map.of(0, 1000L, 1, 800L));
    broker.committed.put(BASE + ".v1", Map.of(0, 990L, 1, 800L));
    broker.withMembers.add(BASE + ".v1");

    gen.serve(2);
    Loop v2 = gen.loops.get(1);
    assertEquals(List.of(v1, v2), gen.live(), "v1 goes on embedding the catalog's changes while v2 replays it");
    assertTrue(gen.follower.check().ok(), gen.follower.check().detail());
    assertTrue(gen.follower.check().detail().contains("version 1 embeds the catalog's changes"),
        gen.follower.check().detail());
    assertFalse(v2.holds(0, 989), "what v1 committed is replayed");
    assertTrue(v2.holds(0, 990), "v2's vector of a change must not land before v1's");
    assertTrue(v2.holds(1, 800));
    assertFalse(v1.holds(0, 5000), "the previous version's own loop holds nothing");

    broker.committed.put(BASE + ".v1", Map.of(0, 1010L, 1, 805L));
    broker.committed.put(BASE + ".v2", Map.of(0, 1000L, 1, 799L));
    gen.follower.poll();
    assertFalse(v1.closed, "the replay has not reached partition 1's end of the switch yet");
    assertFalse(v2.holds(0, 1009));
    assertTrue(v2.holds(0, 1010));

    broker.committed.put(BASE + ".v2", Map.of(0, 1000L, 1, 800L));
    gen.follower.poll();
    assertTrue(v1.closed, "the replay caught up: v1's loop stops");
    assertTrue(v2.holds(0, 1010), "until v1's group is empty on every instance, its offsets still order the topic");
    assertTrue(gen.follower.check().detail().contains("version 1's loops in " + BASE + ".v1 on other instances"),
        gen.follower.check().detail());

    broker.withMembers.remove(BASE + ".v1");
    gen.follower.poll();
    assertTrue(gen.follower.check().detail().endsWith("consumer group " + BASE + ".v2"), gen.follower.check().detail());
    assertFalse(v2.holds(0, 5000));
    assertEquals(v2, gen.running());
  }

  @Test
  void thePreviousVersionStopsAtOnceWhenItIsNoLongerServedOrANewerOneComes() {
    Instance gen = new Instance();
    gen.serve(1);
    Loop v1 = gen.running();
    broker.ends.put(0, 1000L);
    gen.serve(2);
    Loop v2 = gen.loops.get(1);
    assertFalse(v1.closed);
    v1.notServed.run();
    v2.notServed.run();
    gen.follower.poll();
    assertTrue(v1.closed, "a version the model server answers NOT_FOUND for must not hold the replay");
    assertFalse(v2.holds(0, 5000));
    assertTrue(gen.follower.check().ok(), gen.follower.check().detail());

    gen.serve(3);
    assertEquals(List.of(v2, gen.loops.get(2)), gen.live(), "v2 embeds the changes while v3 replays");
    Loop v3 = gen.loops.get(2);
    assertTrue(v3.holds(0, 0), "v2's group committed nothing yet");
    gen.serve(4);
    assertTrue(v2.closed, "v2 is two versions behind");
    assertEquals(List.of(v3, gen.loops.get(3)), gen.live());
    assertFalse(v3.holds(0, 5000), "v3, now the previous version, embeds the changes; v2 no longer holds it back");
    assertTrue(gen.loops.get(3).holds(0, 0), "v4's replay follows v3's group");

    gen.serve(3);
    assertEquals(BASE + ".v3.replay-1", gen.running().group, "a rollback stops every other loop at once");
  }

  @Test
  void anInstanceStartedMidRolloutHoldsItsReplayBehindThePreviousLoopsOfTheOthers() {
    Instance first = new Instance();
    first.serve(1);
    broker.ends.put(0, 1000L);
    broker.committed.put(BASE + ".v1", Map.of(0, 990L));
    broker.withMembers.add(BASE + ".v1");
    first.serve(2);
    assertEquals(2, first.live().size(), "the first instance keeps v1's loop during the rollout");

    // Another instance (new, or restarted) starts while v1's loop still runs on the first one.
    Instance restarted = new Instance();
    restarted.serve(2);
    Loop replay = restarted.running();
    assertEquals(BASE + ".v2", replay.group, "it joins the replay and starts no v1 loop of its own");
    assertFalse(replay.holds(0, 989), "what v1 committed is replayed");
    assertTrue(replay.holds(0, 990), "a change v1 has not embedded yet waits: its v1 vector must not land after v2's");
    assertTrue(restarted.follower.check().ok(), restarted.follower.check().detail());
    assertTrue(restarted.follower.check().detail().contains("version 1's loops in " + BASE + ".v1"),
        restarted.follower.check().detail());

    broker.committed.put(BASE + ".v1", Map.of(0, 1005L));
    restarted.follower.poll();
    assertFalse(replay.holds(0, 1004));
    assertTrue(replay.holds(0, 1005));

    broker.withMembers.remove(BASE + ".v1");
    restarted.follower.poll();
    assertFalse(replay.holds(0, 5000), "no v1 loop is left anywhere: nothing is held");
    assertTrue(restarted.follower.check().detail().endsWith("consumer group " + BASE + ".v2"),
        restarted.follower.check().detail());

    // Once the rollout is over, a start holds nothing; nor after a rollback, which names no version before it.
    Instance later = new Instance();
    later.serve(2);
    assertFalse(later.running().holds(0, 5000));
    broker.withMembers.add(BASE + ".v2");
    first.serve(1);
    assertEquals(null, record.value.upgradedFrom());
    assertFalse(new Instance().loopAfter(1).holds(0, 5000));
  }

  @Test
  void aStartMidRolloutWhenTheBrokerCannotTellHoldsTheReplayUntilItCan() {
    Instance first = new Instance();
    first.serve(1);
    first.serve(2);
    Broker down = new Broker() {
      boolean answering;

      @Override
      public boolean hasMembers(String group) {
        if (!answering) {
          answering = true;
          throw new IllegalStateException("broker not reachable");
        }
        return false;
      }
    };
    Instance restarted = new Instance(down);
    restarted.serve(2);
    assertTrue(restarted.running().holds(0, 0), "whether v1's loops still run is not known yet");
    restarted.follower.poll();
    assertFalse(restarted.running().holds(0, 0));
  }

  @Test
  void theRecordSurvivesItsOwnEncoding() {
    FollowedVersion f = new FollowedVersion(3, "a.b.v3.replay-2", 5, 2);
    assertEquals(f, FollowedVersion.decode(f.encode()));
    FollowedVersion upgraded = f.switchTo(6, "a.b");
    assertEquals(new FollowedVersion.Previous(3, "a.b.v3.replay-2"), upgraded.upgradedFrom());
    assertEquals(upgraded, FollowedVersion.decode(upgraded.encode()));
    assertEquals(null, upgraded.switchTo(4, "a.b").upgradedFrom(), "a rollback hands over from nothing");
    assertEquals(new FollowedVersion(3, "a.b.v3.replay-2", 5, 2), FollowedVersion.decode(
        "version=3\ngroup=a.b.v3.replay-2\nhighest=5\nreplays=2\n".getBytes(java.nio.charset.StandardCharsets.UTF_8)),
        "a record written before upgrades named their origin still reads");
  }
}
