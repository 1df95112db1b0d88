package io.visualsearch.stack;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts a child process in a session of its own, out of the terminal's process group: Ctrl-C in
 * the terminal signals every process of that group at once, so the stack's servers (and a
 * cluster's broker) exited while the services using them were still draining in the launcher's
 * shutdown hook, which then stops the children itself, in order. {@code setsid} (util-linux,
 * Essential on Debian) calls setsid(2) and execs the command: same process, same PID, since a
 * process Java starts leads no group.
 */
public final class OwnSession {

  private static final Path SETSID = Path.of("/usr/bin/setsid");

  private OwnSession() {}

  /** {@code command} to be run in its own session; as it is where there is no setsid. */
  public static List<String> of(List<String> command) {
    if (!Files.isExecutable(SETSID)) {
      return command;
    }
    List<String> wrapped = new ArrayList<>(command.size() + 1);
    wrapped.add(SETSID.toString());
    wrapped.addAll(command);
    return wrapped;
  }
}
