package io.visualsearch.healthboard;

/**
 * What the page's {@link HeartbeatReader} is doing, shown above the rows: without it, a reader that
 * cannot read {@code service.health} (broker unreachable, access denied, no topic) left a page of
 * "0 instances" that looked like a fleet with nothing running.
 *
 * @param reading assigned to the topic's partitions and polling them, with the brokers answering
 * @param detail the reader's own words: "reading 3 partitions", "retrying after ...",
 *     "broker unreachable: ...", "waiting for topic ..."
 * @param lastReadMs when (this host's clock) the last heartbeat was read; 0 before the first
 */
public record ReaderStatus(boolean reading, String detail, long lastReadMs) {}
