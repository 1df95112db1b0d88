package io.visualsearch.modelclient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Int64Value;
import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import io.grpc.NameResolverRegistry;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigException;
import io.visualsearch.proto.tfserving.GetModelMetadataRequest;
import io.visualsearch.proto.tfserving.GetModelMetadataResponse;
import io.visualsearch.proto.tfserving.ModelSpec;
import io.visualsearch.proto.tfserving.PredictionServiceGrpc;
import io.visualsearch.tracing.Tracing;
import io.visualsearch.tracing.TracingSettings;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How the client's Netty channel reaches real model servers: over TLS, and spread over several. */
class ModelClientChannelTest {

  @TempDir
  Path dir;
  final List<Server> servers = new ArrayList<>();
  final List<ModelClient> clients = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    clients.forEach(ModelClient::close);
    for (Server s : servers) {
      s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** A model server on 127.0.0.1 whose GetModelMetadata answers {@code version} and counts the calls. */
  Server server(ServerCredentials credentials, long version, AtomicInteger calls) throws Exception {
    Server s = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), credentials)
        .addService(new PredictionServiceGrpc.PredictionServiceImplBase() {
          @Override
          public void getModelMetadata(GetModelMetadataRequest request, StreamObserver<GetModelMetadataResponse> out) {
            calls.incrementAndGet();
            out.onNext(GetModelMetadataResponse.newBuilder()
                .setModelSpec(ModelSpec.newBuilder().setName("default").setVersion(Int64Value.of(version))).build());
            out.onCompleted();
          }
        }).build().start();
    servers.add(s);
    return s;
  }

  ModelClient client(Map<String, String> env) {
    Map<String, String> all = new HashMap<>(env);
    all.put("ZIPKIN_ENDPOINT", "none");
    Config config = ModelClientSettings.definition().include(TracingSettings.definition()).parse(all);
    ModelClient c = new ModelClient(config, Tracing.create("test", "t", config));
    clients.add(c);
    c.start();
    return c;
  }

  /**
   * A self-signed certificate for localhost and 127.0.0.1, made by the JDK's keytool: its key in
   * a PKCS12 store (returned), the certificate as PEM in ca.pem.
   */
  Path selfSignedKeyStore() throws Exception {
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    Path store = dir.resolve("server.p12");
    run(keytool.toString(), "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1",
        "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2",
        "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", "secret", "-keypass", "secret");
    run(keytool.toString(), "-exportcert", "-rfc", "-alias", "server", "-keystore", store.toString(),
        "-storepass", "secret", "-file", dir.resolve("ca.pem").toString());
    return store;
  }

  private static void run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), () -> String.join(" ", command) + ":\n" + out);
  }

  ServerCredentials tlsServer(Path store) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      ks.load(in, "secret".toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, "secret".toCharArray());
    return TlsServerCredentials.newBuilder().keyManager(kmf.getKeyManagers()).build();
  }

  @Test
  void aModelServerBehindTlsIsReachedWithItsCaFileAndNotInPlaintextNorWithoutTrustingIt() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    Server s = server(tlsServer(selfSignedKeyStore()), 7, calls);
    String target = "127.0.0.1:" + s.getPort();

    ModelClient tls = client(Map.of("MODEL_SERVER_TARGET", target, "MODEL_SERVER_TLS", "true",
        "MODEL_SERVER_TLS_CA_FILE", dir.resolve("ca.pem").toString()));
    assertEquals(OptionalLong.of(7), tls.servedVersion());
    assertEquals(1, calls.get());

    ModelClient plaintext = client(Map.of("MODEL_SERVER_TARGET", target));
    assertThrows(ModelUnavailableException.class, plaintext::servedVersion);
    // The JVM's default trust store does not hold a self-signed certificate: the chain is checked.
    ModelClient untrusting = client(Map.of("MODEL_SERVER_TARGET", target, "MODEL_SERVER_TLS", "true"));
    assertThrows(ModelUnavailableException.class, untrusting::servedVersion);
    assertEquals(1, calls.get());
  }

  @Test
  void aCaFileThatIsMissingOrNotPemStopsTheClientAtStartSayingSo() throws Exception {
    Path missing = dir.resolve("nope.pem");
    ConfigException e = assertThrows(ConfigException.class, () -> client(Map.of("MODEL_SERVER_TLS", "true",
        "MODEL_SERVER_TLS_CA_FILE", missing.toString())));
    assertEquals(List.of("MODEL_SERVER_TLS_CA_FILE: " + missing + " does not exist"), e.problems());

    Path notPem = Files.writeString(dir.resolve("ca.pem"), "not a certificate\n");
    e = assertThrows(ConfigException.class, () -> client(Map.of("MODEL_SERVER_TLS", "true",
        "MODEL_SERVER_TLS_CA_FILE", notPem.toString())));
    assertTrue(e.problems().get(0).startsWith("MODEL_SERVER_TLS_CA_FILE: " + notPem + " is not a PEM file"),
        e.getMessage());

    Path empty = Files.writeString(dir.resolve("empty.pem"), "");
    e = assertThrows(ConfigException.class, () -> client(Map.of("MODEL_SERVER_TLS", "true",
        "MODEL_SERVER_TLS_CA_FILE", empty.toString())));
    assertTrue(e.problems().get(0).startsWith("MODEL_SERVER_TLS_CA_FILE: " + empty), e.getMessage());

    e = assertThrows(ConfigException.class, () -> client(Map.of("MODEL_SERVER_TLS_CA_FILE", notPem.toString())));
    assertTrue(e.problems().get(0).contains("MODEL_SERVER_TLS is false"), e.getMessage());
  }

  /** Resolves {@code twoservers:///any} to the addresses it holds, as DNS does a headless Service's name. */
  static final class FixedAddresses extends NameResolverProvider {
    final List<SocketAddress> addresses;

    FixedAddresses(List<SocketAddress> addresses) {
      this.addresses = addresses;
    }

    @Override
    public NameResolver newNameResolver(URI target, NameResolver.Args args) {
      if (!"twoservers".equals(target.getScheme())) {
        return null;
      }
      return new NameResolver() {
        @Override
        public String getServiceAuthority() {
          return "model-server";
        }

        @Override
        public void start(Listener2 listener) {
          listener.onResult(ResolutionResult.newBuilder()
              .setAddressesOrError(io.grpc.StatusOr.fromValue(
                  addresses.stream().map(EquivalentAddressGroup::new).toList()))
              .build());
        }

        @Override
        public void shutdown() {}
      };
    }

    @Override
    public String getDefaultScheme() {
      return "twoservers";
    }

    @Override
    protected boolean isAvailable() {
      return true;
    }

    @Override
    protected int priority() {
      return 0; // never the default scheme
    }
  }

  @Test
  void aTargetResolvingToSeveralModelServersSpreadsCallsOverAllOfThem() throws Exception {
    AtomicInteger first = new AtomicInteger();
    AtomicInteger second = new AtomicInteger();
    Server a = server(io.grpc.InsecureServerCredentials.create(), 7, first);
    Server b = server(io.grpc.InsecureServerCredentials.create(), 7, second);
    FixedAddresses resolver = new FixedAddresses(List.of(new InetSocketAddress("127.0.0.1", a.getPort()),
        new InetSocketAddress("127.0.0.1", b.getPort())));
    NameResolverRegistry.getDefaultRegistry().register(resolver);
    try {
      ModelClient c = client(Map.of("MODEL_SERVER_TARGET", "twoservers:///model-server"));
      // round_robin alternates once both are connected (the first calls may find one still
      // connecting); pick_first sent every call to the first address.
      for (int i = 0; i < 500 && (first.get() == 0 || second.get() == 0); i++) {
        assertEquals(OptionalLong.of(7), c.servedVersion());
      }
      int before = first.get();
      for (int i = 0; i < 10; i++) {
        c.servedVersion();
      }
      assertEquals(5, first.get() - before, "of 10 calls once both are connected");
    } finally {
      NameResolverRegistry.getDefaultRegistry().deregister(resolver);
    }
    assertTrue(first.get() > 0 && second.get() > 0, first + " calls against " + second);
  }
}
