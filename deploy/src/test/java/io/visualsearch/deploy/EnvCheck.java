package io.visualsearch.deploy;

import io.visualsearch.config.Config;
import io.visualsearch.config.ConfigDef;
import io.visualsearch.config.ConfigException;
import io.visualsearch.config.Setting;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Checks the environment one deployment file gives one service against that service's
 * definition: every variable is defined, every required one is set, every value parses.
 */
final class EnvCheck {

  final List<String> problems = new ArrayList<>();
  Config config;

  private EnvCheck() {}

  /** {@code where} names the file and workload in messages. */
  static EnvCheck of(String where, DeployedService service, Map<String, String> env) {
    EnvCheck check = new EnvCheck();
    ConfigDef def = service.definition();
    Set<String> defined = def.settings().stream().map(Setting::env).collect(Collectors.toSet());
    for (String key : new TreeSet<>(env.keySet())) {
      if (!defined.contains(key)) {
        check.problems.add(where + ": sets " + key + ", which " + service.image + " does not define");
      }
    }
    for (Setting<?> s : def.settings()) {
      if (s.required() && (env.get(s.env()) == null || env.get(s.env()).isBlank())) {
        check.problems.add(where + ": " + service.image + " requires " + s.env() + ", which is not set");
      }
    }
    try {
      check.config = def.parse(env);
    } catch (ConfigException e) {
      check.problems.add(where + ": " + service.image + " rejects its settings: " + e.getMessage());
    }
    if (check.config != null && service.isServer()) {
      for (String host : DeployedService.BIND_HOSTS) {
        if (defined.contains(host) && !"0.0.0.0".equals(check.config.get(service.setting(host)))) {
          check.problems.add(where + ": " + host + " is '" + check.config.get(service.setting(host))
              + "': a server in a container must bind 0.0.0.0 to be reachable");
        }
      }
      if (service.opsPort(check.config) == 0) {
        check.problems.add(where + ": OPS_PORT is 0 (a random port): probes need a fixed one");
      }
    }
    return check;
  }
}
