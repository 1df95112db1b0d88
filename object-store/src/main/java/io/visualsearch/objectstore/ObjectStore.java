package io.visualsearch.objectstore;

import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigException;
import io.visualsearch.runtime.CheckResult;
import io.visualsearch.runtime.Component;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The deployment's bucket. Writes can be conditional (create-only, or replace-if-unchanged), which
 * is how index pointers flip without a lock service. Every failure is an
 * {@link ObjectStoreException} that says whether retrying may help.
 */
public final class ObjectStore implements Component {

  /**
   * From this size on a whole object moved in memory is limited by the transfer timeout, not the
   * call timeout: 8 MiB in the default 20 s attempt already needs 0.4 MB/s, and shards are
   * hundreds of megabytes.
   */
  public static final int LARGE_OBJECT_BYTES = 8 * 1024 * 1024;

  /**
   * How long a successful HeadBucket vouches for the bucket when a 404 alone cannot tell a missing
   * key from a missing bucket (HeadObject's has no body): at most one HeadBucket per interval
   * however many missing keys are asked about, and a bucket deleted meanwhile is noticed this late.
   */
  static final Duration BUCKET_CONFIRMATION = Duration.ofSeconds(10);

  private final Function<ScheduledExecutorService, S3Client> clientFactory;
  private final String bucket;
  private final boolean createBucket;
  private final Duration transferTimeout;
  private final LongSupplier nanoTime;
  private final Object bucketCheck = new Object();
  private volatile ScheduledThreadPoolExecutor timeouts;
  private volatile S3Client s3;
  private volatile Throwable lastError;
  /** {@link #nanoTime} when a HeadBucket last found the bucket, null if never or since found gone. */
  private volatile Long bucketConfirmedAt;

  /**
   * @param clientFactory builds the client at start, given the scheduler its call timeouts must use
   * @param transferTimeout limit of one streamed file transfer, which the client's per-call limits
   *     are meant for small objects and would cut off
   */
  public ObjectStore(Function<ScheduledExecutorService, S3Client> clientFactory, String bucket, boolean createBucket,
      Duration transferTimeout) {
    this(clientFactory, bucket, createBucket, transferTimeout, System::nanoTime);
  }

  /** @param nanoTime the clock of {@link #BUCKET_CONFIRMATION}, a test's own */
  ObjectStore(Function<ScheduledExecutorService, S3Client> clientFactory, String bucket, boolean createBucket,
      Duration transferTimeout, LongSupplier nanoTime) {
    this.clientFactory = clientFactory;
    this.bucket = bucket;
    this.createBucket = createBucket;
    this.transferTimeout = transferTimeout;
    this.nanoTime = nanoTime;
  }

  /** @throws ConfigException when only one of S3_ACCESS_KEY and S3_SECRET_KEY is set */
  public static ObjectStore fromConfig(Config config, boolean createBucket) {
    Optional<AwsBasicCredentials> keys = staticKeys(config);
    return new ObjectStore(timeouts -> builder(config, keys, timeouts).build(), config.get(ObjectStoreSettings.BUCKET),
        createBucket, config.get(ObjectStoreSettings.TRANSFER_TIMEOUT));
  }

  /**
   * An S3 client with this deployment's endpoint and credentials, e.g. to read feeds from another bucket.
   *
   * @throws ConfigException when only one of S3_ACCESS_KEY and S3_SECRET_KEY is set
   */
  public static S3Client client(Config config) {
    return builder(config, staticKeys(config), null).build();
  }

  /**
   * The key pair, or empty for the AWS default chain. Half a pair is refused here, while wiring, so
   * the service exits as misconfigured naming the missing setting; the SDK would refuse it only when
   * the client is built at start, in words naming neither variable.
   */
  private static Optional<AwsBasicCredentials> staticKeys(Config config) {
    String accessKey = config.get(ObjectStoreSettings.ACCESS_KEY);
    String secretKey = config.get(ObjectStoreSettings.SECRET_KEY);
    if (accessKey == null && secretKey == null) {
      return Optional.empty();
    }
    if (secretKey == null || accessKey == null) {
      String set = accessKey != null ? ObjectStoreSettings.ACCESS_KEY.env() : ObjectStoreSettings.SECRET_KEY.env();
      String unset = accessKey != null ? ObjectStoreSettings.SECRET_KEY.env() : ObjectStoreSettings.ACCESS_KEY.env();
      throw new ConfigException(List.of(unset + " is required when " + set + " is set (unset both for the AWS"
          + " default credential chain)"));
    }
    return Optional.of(AwsBasicCredentials.create(accessKey, secretKey));
  }

  private static S3ClientBuilder builder(Config config, Optional<AwsBasicCredentials> keys,
      ScheduledExecutorService timeouts) {
    S3ClientBuilder b = S3Client.builder()
        .region(Region.of(config.get(ObjectStoreSettings.REGION)))
        .forcePathStyle(config.get(ObjectStoreSettings.PATH_STYLE))
        // S3-compatible servers do not all understand the SDK's newer trailing checksums.
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .overrideConfiguration(o -> {
          o.apiCallTimeout(config.get(ObjectStoreSettings.CALL_TIMEOUT))
              .apiCallAttemptTimeout(config.get(ObjectStoreSettings.ATTEMPT_TIMEOUT));
          if (timeouts != null) {
            o.scheduledExecutorService(timeouts);
          }
        });
    String endpoint = config.get(ObjectStoreSettings.ENDPOINT);
    if (endpoint != null) {
      b.endpointOverride(URI.create(endpoint));
    }
    b.credentialsProvider(keys.<AwsCredentialsProvider>map(StaticCredentialsProvider::create)
        .orElseGet(() -> DefaultCredentialsProvider.builder().build()));
    return b;
  }

  /**
   * Where the client's call timeouts wait. The SDK's own scheduler keeps a cancelled timeout queued
   * until its deadline would have passed, and every call schedules two (call and attempt): at the
   * embeddings-generator's ~200 calls a second that is ~16,000 dead tasks held and a wake-up for
   * each as it expires, 1.2 % of a core in `bench model`. Removing them on cancel costs neither.
   */
  private static ScheduledThreadPoolExecutor timeoutScheduler() {
    ScheduledThreadPoolExecutor s = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "object-store-timeouts");
      t.setDaemon(true);
      return t;
    });
    s.setRemoveOnCancelPolicy(true);
    return s;
  }

  @Override
  public String name() {
    return "object-store";
  }

  @Override
  public void start() {
    if (timeouts == null) {
      timeouts = timeoutScheduler();
    }
    s3 = clientFactory.apply(timeouts);
    try {
      s3.headBucket(r -> r.bucket(bucket));
    } catch (NoSuchBucketException e) {
      if (!createBucket) {
        throw new ObjectStoreException("bucket " + bucket + " does not exist", e, false);
      }
      s3.createBucket(r -> r.bucket(bucket));
    } catch (S3Exception e) {
      if (e.statusCode() == 404 && createBucket) {
        s3.createBucket(r -> r.bucket(bucket));
      } else {
        throw failure("reach bucket " + bucket, e);
      }
    }
  }

  public String bucket() {
    return bucket;
  }

  /**
   * Writes an object; one of at least {@link #LARGE_OBJECT_BYTES} is limited as a transfer.
   * Returns the ETag the store gave it ("" if it gave none), as a listing shows it.
   */
  public String put(String key, byte[] bytes, String contentType) {
    PutObjectRequest.Builder r = req(key, contentType);
    if (bytes.length >= LARGE_OBJECT_BYTES) {
      r.overrideConfiguration(this::transferLimits);
    }
    PutObjectResponse written = call("put " + key, () -> s3.putObject(r.build(), RequestBody.fromBytes(bytes)));
    return written == null || written.eTag() == null ? "" : written.eTag();
  }

  /**
   * Uploads a local file, streamed from disk: for objects too large to hold in memory twice. Limited
   * by the transfer timeout, not the call timeout: a shard's exact vectors can be gigabytes.
   */
  public void put(String key, Path file, String contentType) {
    run("put " + key, () -> s3.putObject(req(key, contentType).overrideConfiguration(this::transferLimits).build(),
        RequestBody.fromFile(file)));
  }

  /**
   * Downloads an object into {@code file} (replaced if it exists), streamed to disk, limited by the
   * transfer timeout; false when no object has the key. A missing bucket is a retriable failure.
   */
  public boolean download(String key, Path file) {
    try {
      Files.deleteIfExists(file);
      call("get " + key, () -> s3.getObject(g -> g.bucket(bucket).key(key).overrideConfiguration(this::transferLimits),
          ResponseTransformer.toFile(file)));
      return true;
    } catch (IOException e) {
      throw new ObjectStoreException("get " + key + ": cannot replace " + file + ": " + e.getMessage(), e, false);
    } catch (ObjectStoreException e) {
      if (keyMissing("get " + key, e, true)) {
        return false;
      }
      throw e;
    }
  }

  /** Writes only if no object has the key; false when one already does (If-None-Match: *). */
  public boolean putIfAbsent(String key, byte[] bytes, String contentType) {
    return writeIfUnchanged(key, bytes, contentType, null).isPresent();
  }

  /**
   * Replaces the object only if it still has {@code expectedEtag} (null: only if it does not
   * exist); false when someone else changed it first.
   */
  public boolean replaceIfUnchanged(String key, byte[] bytes, String contentType, String expectedEtag) {
    return writeIfUnchanged(key, bytes, contentType, expectedEtag).isPresent();
  }

  /**
   * As {@link #replaceIfUnchanged}, answering the written object's ETag (the next conditional
   * write's condition, without reading the object back; "" if the store did not return one), or
   * empty when the condition failed.
   */
  public Optional<String> writeIfUnchanged(String key, byte[] bytes, String contentType, String expectedEtag) {
    return expectedEtag == null
        ? conditional("create " + key, () ->
            s3.putObject(req(key, contentType).ifNoneMatch("*").build(), RequestBody.fromBytes(bytes)))
        : conditional("replace " + key, () ->
            s3.putObject(req(key, contentType).ifMatch(expectedEtag).build(), RequestBody.fromBytes(bytes)));
  }

  public Optional<StoredObject> get(String key) {
    return get(key, 0);
  }

  /**
   * Reads an object into memory, limited as a transfer when the caller expects at least
   * {@link #LARGE_OBJECT_BYTES} (e.g. a shard whose size its manifest states); empty when no object
   * has the key. A missing bucket is a retriable failure.
   */
  public Optional<StoredObject> get(String key, long expectedBytes) {
    try {
      ResponseBytes<GetObjectResponse> r = call("get " + key, () -> s3.getObjectAsBytes(g -> {
        g.bucket(bucket).key(key);
        if (expectedBytes >= LARGE_OBJECT_BYTES) {
          g.overrideConfiguration(this::transferLimits);
        }
      }));
      return Optional.of(new StoredObject(key, r.asByteArray(), r.response().eTag(), r.response().contentType()));
    } catch (ObjectStoreException e) {
      if (keyMissing("get " + key, e, true)) {
        return Optional.empty();
      }
      throw e;
    }
  }

  /**
   * Whether an object has the key. A missing bucket is a retriable failure: HeadObject answers it
   * with the same bodiless 404 as a missing key, so a 404 is checked against a HeadBucket made at
   * most once per {@link #BUCKET_CONFIRMATION}.
   */
  public boolean exists(String key) {
    return lastModified(key).isPresent();
  }

  /**
   * When the object was last written, by the store's clock; empty when no object has the key (a
   * missing bucket is a retriable failure, as for {@link #exists}).
   */
  public Optional<Instant> lastModified(String key) {
    try {
      HeadObjectResponse head = call("head " + key, () -> s3.headObject(h -> h.bucket(bucket).key(key)));
      return Optional.of(head == null || head.lastModified() == null ? Instant.EPOCH : head.lastModified());
    } catch (ObjectStoreException e) {
      if (keyMissing("head " + key, e, false)) {
        return Optional.empty();
      }
      throw e;
    }
  }

  /**
   * Whether {@code e} (of a read of one key) means that no object has the key, rather than that the
   * bucket itself is gone, which a 404 means too. A 404 naming NoSuchBucket was already made a
   * retriable failure by {@link #failure}; one naming NoSuchKey in a GET's body is a missing key.
   * Any other 404 (a HEAD's, which the SDK calls NoSuchKey whatever the cause: {@code bodyHasCode}
   * false; or a GET's without a code) is a missing key only once the bucket is confirmed to
   * exist, which throws the bucket's absence.
   */
  private boolean keyMissing(String what, ObjectStoreException e, boolean bodyHasCode) {
    if (!(e.getCause() instanceof S3Exception s) || s.statusCode() != 404 || bucketMissing(s)) {
      return false;
    }
    if (!(bodyHasCode && "NoSuchKey".equals(errorCode(s)))) {
      confirmBucket(what);
    }
    return true;
  }

  /**
   * Throws unless a HeadBucket found the bucket within the last {@link #BUCKET_CONFIRMATION}: the
   * image indexer asks about every new image, most of them missing, so one call serves them all.
   */
  private void confirmBucket(String what) {
    if (bucketRecentlyConfirmed()) {
      return;
    }
    synchronized (bucketCheck) {
      if (bucketRecentlyConfirmed()) {
        return;
      }
      call(what, () -> s3.headBucket(h -> h.bucket(bucket)));
      bucketConfirmedAt = nanoTime.getAsLong();
    }
  }

  private boolean bucketRecentlyConfirmed() {
    Long at = bucketConfirmedAt;
    return at != null && nanoTime.getAsLong() - at < BUCKET_CONFIRMATION.toNanos();
  }

  private static boolean bucketMissing(SdkException e) {
    return e instanceof NoSuchBucketException || e instanceof S3Exception s && "NoSuchBucket".equals(errorCode(s));
  }

  private static String errorCode(S3Exception e) {
    AwsErrorDetails details = e.awsErrorDetails();
    return details == null ? null : details.errorCode();
  }

  public void delete(String key) {
    run("delete " + key, () -> s3.deleteObject(d -> d.bucket(bucket).key(key)));
  }

  /** Every key under a prefix, in key order. */
  public List<String> list(String prefix) {
    List<String> keys = new ArrayList<>();
    forEachListed(prefix, o -> keys.add(o.key()));
    return keys;
  }

  /**
   * Hands every object under a prefix, in key order, to {@code each} page by page as the store
   * lists them: millions of keys never need to be held at once.
   */
  public void forEachListed(String prefix, Consumer<ListedObject> each) {
    ListObjectsV2Request request = ListObjectsV2Request.builder().bucket(bucket).prefix(prefix).build();
    call("list " + prefix, () -> {
      for (var page : s3.listObjectsV2Paginator(request)) {
        for (S3Object o : page.contents()) {
          each.accept(new ListedObject(o.key(), o.eTag() == null ? "" : o.eTag(),
              o.lastModified() == null ? Instant.EPOCH : o.lastModified()));
        }
      }
      return null;
    });
  }

  /**
   * The names of the folders directly under {@code prefix} (which ends in '/'), e.g. the tenants
   * under {@code indexes/}: one listing of common prefixes, however many objects they hold.
   */
  public List<String> folders(String prefix) {
    List<String> names = new ArrayList<>();
    ListObjectsV2Request request = ListObjectsV2Request.builder().bucket(bucket).prefix(prefix).delimiter("/").build();
    call("list " + prefix, () -> {
      for (var page : s3.listObjectsV2Paginator(request)) {
        for (CommonPrefix p : page.commonPrefixes()) {
          String name = p.prefix().substring(prefix.length());
          names.add(name.substring(0, name.length() - 1));
        }
      }
      return null;
    });
    return names;
  }

  private void transferLimits(AwsRequestOverrideConfiguration.Builder o) {
    o.apiCallTimeout(transferTimeout).apiCallAttemptTimeout(transferTimeout);
  }

  private PutObjectRequest.Builder req(String key, String contentType) {
    return PutObjectRequest.builder().bucket(bucket).key(key).contentType(contentType);
  }

  private Optional<String> conditional(String what, Supplier<PutObjectResponse> op) {
    try {
      PutObjectResponse written = call(what, op);
      // "" when the store did not say (S3 always does; test doubles and some gateways may not).
      return Optional.of(written == null || written.eTag() == null ? "" : written.eTag());
    } catch (ObjectStoreException e) {
      // 412: the condition failed; 409: a concurrent conditional write won the race.
      if (e.getCause() instanceof S3Exception s && (s.statusCode() == 412 || s.statusCode() == 409)) {
        return Optional.empty();
      }
      throw e;
    }
  }

  private void run(String what, Supplier<?> op) {
    call(what, op);
  }

  private <T> T call(String what, Supplier<T> op) {
    if (s3 == null) {
      throw new IllegalStateException("object store not started");
    }
    try {
      T result = op.get();
      lastError = null;
      return result;
    } catch (SdkException e) {
      ObjectStoreException failure = failure(what, e);
      // A refused credential is not retriable by waiting but is the store failing us all the
      // same, so it shows in check() like an outage; a missing key or a lost race does not. The
      // failure, not the SDK's exception, for its words: a missing bucket's says what to look at.
      if (failure.retriable() || e instanceof S3Exception s && (s.statusCode() == 401 || s.statusCode() == 403)) {
        lastError = failure;
      }
      throw failure;
    }
  }

  private ObjectStoreException failure(String what, SdkException e) {
    if (bucketMissing(e)) {
      // Start found it, so it was deleted or recreated since, or the endpoint now reaches another
      // store: an outage of the deployment's own bucket, to wait out and show in check().
      bucketConfirmedAt = null;
      return new ObjectStoreException("object store: cannot " + what + ": bucket " + bucket + " does not exist"
          + " (deleted, or S3_ENDPOINT/S3_BUCKET point elsewhere)", e, true);
    }
    boolean retriable = e instanceof SdkClientException
        || e instanceof S3Exception s && (s.statusCode() >= 500 || s.statusCode() == 429 || s.statusCode() == 408);
    return new ObjectStoreException("object store: cannot " + what + " in bucket " + bucket + ": " + e.getMessage(), e, retriable);
  }

  @Override
  public CheckResult check() {
    if (s3 == null) {
      return CheckResult.failed("not started");
    }
    Throwable e = lastError;
    return e == null ? CheckResult.OK : CheckResult.failed("last call failed: " + e.getMessage());
  }

  @Override
  public void close() {
    if (s3 != null) {
      s3.close();
    }
    if (timeouts != null) {
      timeouts.shutdownNow();
    }
  }
}
