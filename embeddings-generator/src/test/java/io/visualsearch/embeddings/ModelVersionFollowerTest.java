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

  static final class Loop implements Component {
    final long version;
    final String group;
    boolean started;
    boolean closed;

    Loop(long version, String group) {
      this.version = version;
      this.group = group;
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
    public void close() {
      closed = true;
    }
  }

  final Server server = new Server();
  final Record record = new Record();
  final List<String> groupsOnBroker = new ArrayList<>();

  final class Instance {
    final Probe probe = new Probe();
    final List<Loop> loops = new ArrayList<>();
    final ModelVersionFollower follower = new ModelVersionFollower("default", server, probe, record,
        () -> List.copyOf(groupsOnBroker), (v, g) -> {
          Loop l = new Loop(v, g);
          loops.add(l);
          groupsOnBroker.add(g);
          return l;
        }, BASE, Duration.ofSeconds(5));

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
    assertEquals(new FollowedVersion(2, BASE + ".v2", 2, 0), record.value);
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
  void theRecordSurvivesItsOwnEncoding() {
    FollowedVersion f = new FollowedVersion(3, "a.b.v3.replay-2", 5, 2);
    assertEquals(f, FollowedVersion.decode(f.encode()));
  }
}
