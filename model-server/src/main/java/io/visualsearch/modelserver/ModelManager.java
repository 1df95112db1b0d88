package io.visualsearch.modelserver;

import io.visualsearch.modelserver.VersionStatusBook.State;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.proto.ConfigProto;

/**
 * Owns the loaded versions of one model under {@code <base>/<name>/<version>/}. A watcher thread
 * rescans the directory; a new version is loaded (and warmed up with its own sample requests, see
 * {@link VersionWarmup}) while the old one keeps serving, then becomes the default in one atomic
 * step, and the old one is retired (closed once its in-flight requests end).
 *
 * <p>Policy ({@link VersionPolicy}): the highest version that loads is the default (TensorFlow
 * Serving's "latest"), or exactly the pinned version, or a chosen default; beside the default, the
 * newest versions up to {@code servedVersions} in all stay available to requests that name their
 * version (TensorFlow Serving's {@code latest { num_versions: N }}): older ones under "latest", any
 * other under a chosen default, none under a pin. So an index built with another served version
 * keeps answering until its successor is published. A version that fails to load is not retried
 * until its files change, and the previous version keeps serving meanwhile. Writers should create a
 * version directory under a temporary name and rename it into place.
 */
public final class ModelManager implements Component {

  private static final Logger log = LoggerFactory.getLogger(ModelManager.class);
  private final java.util.concurrent.atomic.AtomicBoolean zeroReported = new java.util.concurrent.atomic.AtomicBoolean();
  private static final String SERVE_TAG = "serve";

  private final String modelName;
  private final Path modelDir;
  private final VersionPolicy policy;
  private final Duration pollInterval;
  private final int servedVersions;
  private final ConfigProto sessionConfig;
  private final VersionWarmup warmup = new VersionWarmup();
  private final NavigableMap<Long, ServableVersion> live = new ConcurrentSkipListMap<>();
  private final VersionStatusBook statuses = new VersionStatusBook();
  /** Versions that failed to load, with the fingerprint of their files at the time. */
  private final Map<Long, String> failedLoads = new HashMap<>();
  private final Object scanLock = new Object();
  private volatile ServableVersion current;
  private volatile ScheduledExecutorService watcher;
  private volatile String lastScanProblem = "";
  private volatile boolean closed;

  public ModelManager(String modelName, Path basePath, OptionalLong pinnedVersion, Duration pollInterval) {
    this(modelName, basePath, pinnedVersion, pollInterval, 1);
  }

  public ModelManager(String modelName, Path basePath, OptionalLong pinnedVersion, Duration pollInterval,
      int servedVersions) {
    this(modelName, basePath, VersionPolicy.pinnedOrLatest(pinnedVersion), pollInterval, servedVersions,
        ConfigProto.getDefaultInstance());
  }

  /** {@code sessionConfig}: TensorFlow session options (thread pools) for every version loaded. */
  ModelManager(String modelName, Path basePath, VersionPolicy policy, Duration pollInterval,
      int servedVersions, ConfigProto sessionConfig) {
    if (servedVersions < 1) {
      throw new IllegalArgumentException("servedVersions must be at least 1");
    }
    this.modelName = modelName;
    this.modelDir = basePath.resolve(modelName);
    this.policy = policy;
    this.pollInterval = pollInterval;
    this.servedVersions = servedVersions;
    this.sessionConfig = sessionConfig;
  }

  @Override
  public String name() {
    return "model-manager(" + modelName + ")";
  }

  public String modelName() {
    return modelName;
  }

  /** Loads what is on disk now (so a ready server answers at once), then watches for changes. */
  @Override
  public void start() {
    scan();
    ScheduledExecutorService w = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "model-watcher-" + modelName);
      t.setDaemon(true);
      return t;
    });
    w.scheduleWithFixedDelay(this::scanSafely, pollInterval.toMillis(), pollInterval.toMillis(), TimeUnit.MILLISECONDS);
    watcher = w;
  }

  @Override
  public CheckResult check() {
    ScheduledExecutorService w = watcher;
    if (w == null || w.isShutdown()) {
      return CheckResult.failed("version watcher is not running");
    }
    ServableVersion c = current;
    if (c == null) {
      return CheckResult.failed("no version of model '" + modelName + "' is loaded from " + modelDir
          + (lastScanProblem.isEmpty() ? "" : " (" + lastScanProblem + ")"));
    }
    String problem = lastScanProblem;
    // Still serving, but what the last scan found wrong is for the operator to see.
    return new CheckResult(true, "serving " + modelName + " version " + c.version()
        + (problem.isEmpty() ? "" : " (" + problem + ")"));
  }

  /**
   * A lease on the requested version (empty: the default one). The caller must close it when the
   * reply has been produced.
   */
  ServableVersion.Lease acquire(String name, OptionalLong version) {
    checkName(name);
    while (true) {
      ServableVersion v = version.isPresent() ? live.get(version.getAsLong()) : current;
      if (v == null) {
        if (version.isPresent()) {
          throw ServingException.notFound("version " + version.getAsLong() + " of model '" + modelName
              + "' is not loaded (loaded: " + live.keySet() + ")");
        }
        throw ServingException.unavailable("model '" + modelName + "' has no version loaded yet");
      }
      ServableVersion.Lease lease = v.tryAcquire();
      if (lease != null) {
        return lease;
      }
      // Retired between lookup and acquire: the swap has already published its successor.
    }
  }

  void checkName(String name) {
    if (name.isEmpty()) {
      throw ServingException.invalid("model_spec.name is required (this server serves '" + modelName + "')");
    }
    if (!modelName.equals(name)) {
      throw ServingException.notFound("model '" + name + "' is not served here (served: '" + modelName + "')");
    }
  }

  List<VersionStatusBook.Entry> statuses() {
    return statuses.all();
  }

  OptionalLong currentVersion() {
    ServableVersion c = current;
    return c == null ? OptionalLong.empty() : OptionalLong.of(c.version());
  }

  private void scanSafely() {
    try {
      scan();
    } catch (RuntimeException | Error e) {
      // One bad scan must not kill the watcher: the next one may succeed.
      log.error("scanning {} failed", modelDir, e);
    }
  }

  /** One reconciliation of loaded versions with the directory; serialised with itself and close. */
  void scan() {
    synchronized (scanLock) {
      if (closed) {
        return;
      }
      Map<Long, Path> onDisk;
      try {
        onDisk = versionsOnDisk();
      } catch (IOException e) {
        // An unreadable directory is not an instruction to unload: keep serving what we have.
        lastScanProblem = "cannot list " + modelDir + ": " + e.getMessage();
        log.warn(lastScanProblem);
        return;
      }
      lastScanProblem = onDisk.isEmpty() ? "no version directories found"
          : policy.chosen().isPresent() && !onDisk.containsKey(policy.chosen().getAsLong())
              ? "the chosen version " + policy.chosen().getAsLong() + " is not on disk (found " + onDisk.keySet() + ")"
              : "";
      NavigableMap<Long, String> loadable = new TreeMap<>();
      NavigableMap<Long, String> candidates = new TreeMap<>();
      for (Map.Entry<Long, Path> e : onDisk.entrySet()) {
        String fp = fingerprint(e.getValue());
        String failedAt = failedLoads.get(e.getKey());
        if (failedAt != null && failedAt.equals(fp)) {
          continue;
        }
        failedLoads.remove(e.getKey());
        loadable.put(e.getKey(), fp);
        if (policy.mayBeDefault(e.getKey())) {
          candidates.put(e.getKey(), fp);
        }
      }
      ServableVersion serving = current;
      boolean settled = false;
      for (Long v : candidates.descendingKeySet()) {
        ServableVersion loaded = live.get(v);
        if (loaded != null) {
          // Still loaded (the default, or a previous version kept served): no reload needed.
          if (loaded != serving) {
            current = loaded;
            log.info("{} version {} is the default again", modelName, v);
          }
          settled = true;
          break;
        }
        if (load(v, onDisk.get(v), candidates.get(v))) {
          settled = true;
          break;
        }
      }
      if (settled) {
        serveBesideDefault(loadable, onDisk);
      }
      if (!settled && serving != null) {
        // Nothing on disk may be served any more (the served version's directory is gone and no
        // other loads): like TensorFlow Serving, stop serving rather than serve a deleted model.
        log.info("{} version {} is no longer on disk and nothing replaces it, unloading", modelName,
            serving.version());
        current = null;
        retireAllExcept(-1);
      }
    }
  }

  /**
   * Serves the newest loadable versions beside the default, up to {@code servedVersions} in all,
   * as TensorFlow Serving's {@code latest { num_versions: N }} does, and retires every other: one
   * deleted from disk, pushed out by a newer one, or not allowed by the policy. Without it a server
   * started (or restarted) with versions 1 and 2 on disk served 2 alone, and every index still
   * built with version 1 had its queries refused until its rebuild.
   */
  private void serveBesideDefault(NavigableMap<Long, String> loadable, Map<Long, Path> onDisk) {
    long byDefault = current.version();
    Set<Long> kept = new HashSet<>(List.of(byDefault));
    for (Long v : loadable.descendingKeySet()) {
      if (kept.size() >= servedVersions) {
        break;
      }
      if (v == byDefault || !policy.mayServeBeside(v, byDefault)) {
        continue;
      }
      if (live.containsKey(v)) {
        kept.add(v);
        continue;
      }
      ServableVersion other = open(v, onDisk.get(v), loadable.get(v));
      if (other != null) {
        live.put(v, other);
        statuses.set(v, State.AVAILABLE);
        kept.add(v);
      }
    }
    for (Long v : List.copyOf(live.keySet())) {
      if (!kept.contains(v)) {
        retire(v);
      }
    }
  }

  /** Loads a version and makes it the default; false if loading failed. */
  private boolean load(long version, Path dir, String fingerprint) {
    ServableVersion loaded = open(version, dir, fingerprint);
    if (loaded == null) {
      return false;
    }
    live.put(version, loaded);
    current = loaded;
    statuses.set(version, State.AVAILABLE);
    return true;
  }

  /** Loads a version's SavedModel; null (and remembered until its files change) if that failed. */
  private ServableVersion open(long version, Path dir, String fingerprint) {
    statuses.set(version, State.LOADING);
    log.info("loading {} version {} from {}", modelName, version, dir);
    long t0 = System.nanoTime();
    SavedModelBundle bundle;
    try {
      bundle = SavedModelBundle.loader(dir.toString()).withTags(SERVE_TAG).withConfigProto(sessionConfig).load();
    } catch (RuntimeException e) {
      failedLoads.put(version, fingerprint);
      statuses.failed(version, "failed to load " + dir + ": " + e.getMessage());
      // TensorFlow's message says what is wrong; its Java stack trace adds nothing.
      log.error("{} version {} failed to load from {} (retried when its files change): {}", modelName, version,
          dir, e.toString());
      return null;
    }
    ServableVersion loaded;
    try {
      loaded = new ServableVersion(modelName, version, bundle);
    } catch (RuntimeException e) {
      bundle.close();
      failedLoads.put(version, fingerprint);
      statuses.failed(version, "unusable SavedModel in " + dir + ": " + e.getMessage());
      return null;
    }
    long loadedAt = System.nanoTime();
    int warmups;
    try {
      warmups = warmup.warm(loaded, dir);
    } catch (VersionWarmup.WarmupFailedException | RuntimeException | Error e) {
      // Any failure, an Error too: the loaded bundle is closed and the version remembered as
      // failed, or every scan would load (and leak) it again.
      loaded.retire();
      failedLoads.put(version, fingerprint);
      String why = e instanceof VersionWarmup.WarmupFailedException ? e.getMessage() : "warm-up failed: " + e;
      statuses.failed(version, why);
      log.error("{} version {} is not served (retried when its files change): {}", modelName, version, why);
      if (e instanceof Error error) {
        throw error;
      }
      return null;
    }
    log.info("{} version {} is serving (loaded in {} ms, {} warm-up requests in {} ms)", modelName, version,
        (loadedAt - t0) / 1_000_000, warmups, (System.nanoTime() - loadedAt) / 1_000_000);
    return loaded;
  }

  private void retireAllExcept(long keep) {
    for (Long v : List.copyOf(live.keySet())) {
      if (v != keep) {
        retire(v);
      }
    }
  }

  private void retire(long v) {
    ServableVersion old = live.remove(v);
    if (old != null) {
      statuses.set(v, State.UNLOADING);
      old.closedFuture().thenRun(() -> {
        statuses.endedIfStill(v, State.UNLOADING);
        log.info("{} version {} unloaded", modelName, v);
      });
      old.retire();
    }
  }

  private Map<Long, Path> versionsOnDisk() throws IOException {
    Map<Long, Path> versions = new TreeMap<>();
    if (!Files.isDirectory(modelDir)) {
      // Like TensorFlow Serving, a missing base path is not an empty list of versions to serve: a
      // volume remounted, or the directory swapped by a rename, would otherwise unload everything.
      throw new NoSuchFileException(modelDir.toString(), null, "the model directory does not exist");
    }
    try (Stream<Path> children = Files.list(modelDir)) {
      for (Path p : (Iterable<Path>) children::iterator) {
        String n = p.getFileName().toString();
        if (!n.matches("\\d{1,18}") || !Files.isDirectory(p)) {
          continue;
        }
        if (Files.isRegularFile(p.resolve("saved_model.pb")) || Files.isRegularFile(p.resolve("saved_model.pbtxt"))) {
          long version = Long.parseLong(n);
          if (version == 0) {
            // The pipeline's records and the TensorFlow Serving API's default both read 0 as "no
            // version": an index of version 0 would take any served version's queries as its own.
            if (zeroReported.compareAndSet(false, true)) {
              log.warn("{}: version directory 0 is not served; model versions start at 1", modelDir);
            }
            continue;
          }
          versions.put(version, p);
        }
      }
    }
    return versions;
  }

  /** Sizes and modification times of every file in a version, to notice a rewritten version. */
  private static String fingerprint(Path dir) {
    StringBuilder sb = new StringBuilder();
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted().forEach(f -> {
        try {
          BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
          sb.append(dir.relativize(f)).append(':').append(a.size()).append(':').append(a.lastModifiedTime()).append(';');
        } catch (IOException e) {
          sb.append(f).append(":?;");
        }
      });
    } catch (IOException | java.io.UncheckedIOException e) {
      sb.append("unreadable");
    }
    return sb.toString();
  }

  /** Stops watching and retires every version; in-flight requests still finish on theirs. */
  @Override
  public void close() {
    ScheduledExecutorService w = watcher;
    if (w != null) {
      w.shutdownNow();
      try {
        w.awaitTermination(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    synchronized (scanLock) {
      closed = true;
      current = null;
      retireAllExcept(-1);
    }
  }
}
