package io.visualsearch.runtime;

import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigDef;
import io.visualsearch.config.ConfigException;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shape of every service's {@code main}: parse config, wire with plain constructors, start,
 * wait, and exit with a code that says how it ended.
 */
public final class ServiceMain {

  private static final Logger log = LoggerFactory.getLogger(ServiceMain.class);

  /** Wires a service's components onto the host from its parsed configuration. */
  @FunctionalInterface
  public interface Wiring {
    void wire(Config config, ServiceHost host) throws Exception;
  }

  private ServiceMain() {}

  /** Runs until stopped and returns the exit code; {@code main} passes it to System.exit. */
  public static ExitCode run(String service, ConfigDef definition, Map<String, String> env, Wiring wiring) {
    Config config;
    try {
      config = definition.include(RuntimeSettings.definition()).parse(env);
    } catch (ConfigException e) {
      return configError(service, e);
    }
    log.info("{}: configuration {}", service, config);
    HttpRequestDeadline.apply(config.get(RuntimeSettings.HTTP_REQUEST_TIMEOUT));
    // Draining may take SERVICE_SHUTDOWN_TIMEOUT; closing what drained gets 10 s more, inside the
    // deployments' 40 s grace period.
    ServiceHost host = new ServiceHost(service)
        .stopWithin(config.get(RuntimeSettings.SHUTDOWN_TIMEOUT).plusSeconds(10));
    try {
      wiring.wire(config, host);
      host.stopOnSignals().stopOnShutdown();
      return host.startAndAwaitStop();
    } catch (ConfigException e) {
      // Settings that are valid alone but not together, found while wiring.
      ExitCode code = configError(service, e);
      host.close();
      return code;
    } catch (ServiceStartException e) {
      log.error(e.getMessage(), e.getCause());
      System.err.println(e.getMessage());
      return ExitCode.START_FAILED;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      host.close();
      return ExitCode.OK;
    } catch (Exception e) {
      log.error("{}: wiring failed", service, e);
      host.close();
      return ExitCode.START_FAILED;
    }
  }

  /** Says what is wrong in the log and on stderr, where an operator starting the service looks. */
  private static ExitCode configError(String service, ConfigException e) {
    log.error("{}: {}", service, e.getMessage());
    System.err.println(service + ": " + e.getMessage());
    return ExitCode.CONFIG_ERROR;
  }
}
