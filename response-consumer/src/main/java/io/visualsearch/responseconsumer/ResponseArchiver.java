package io.visualsearch.responseconsumer;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.visualsearch.indexformat.IndexLayout;
import io.visualsearch.objectstore.ObjectStore;
import io.visualsearch.objectstore.ObjectStoreException;
import io.visualsearch.pipeline.Outbox;
import io.visualsearch.pipeline.PoisonRecordException;
import io.visualsearch.pipeline.RecordHandler;
import io.visualsearch.pipeline.RetriableProcessingException;
import io.visualsearch.proto.events.SearchResponseEvent;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Writes each answered search to {@code responses/<tenant>/<request-id>.json}. Writing the same
 * record twice writes the same object, so redelivery after a crash is harmless.
 */
public final class ResponseArchiver implements RecordHandler {

  private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9_-]{1,128}");

  private final ObjectStore store;
  /**
   * Every field, empty ones too: a search that found nothing was archived without "hits" (and a
   * search without filters without "filters"), exactly the answers analytics look for, and readers
   * doing {@code doc.hits.length} failed on them.
   */
  private static final JsonFormat.Printer PRINTER = JsonFormat.printer().preservingProtoFieldNames()
      .includingDefaultValueFields();

  public ResponseArchiver(ObjectStore store) {
    this.store = store;
  }

  /** The archived document of an answer. */
  static byte[] json(SearchResponseEvent event) throws InvalidProtocolBufferException {
    return PRINTER.print(event).getBytes(StandardCharsets.UTF_8);
  }

  public static String key(String tenant, String requestId) {
    return "responses/" + IndexLayout.validTenant(tenant) + "/" + requestId + ".json";
  }

  @Override
  public void handle(ConsumerRecord<byte[], byte[]> record, Outbox out) throws Exception {
    if (record.value() == null) {
      return;
    }
    SearchResponseEvent event;
    try {
      event = SearchResponseEvent.parseFrom(record.value());
    } catch (InvalidProtocolBufferException e) {
      throw new PoisonRecordException("malformed-payload", "not a SearchResponseEvent: " + e.getMessage(), e);
    }
    if (!REQUEST_ID.matcher(event.getRequestId()).matches()) {
      throw new PoisonRecordException("invalid-request-id", "request id '" + event.getRequestId()
          + "' cannot name an object");
    }
    String key;
    try {
      key = key(event.getTenant(), event.getRequestId());
    } catch (IllegalArgumentException e) {
      throw new PoisonRecordException("invalid-tenant", e.getMessage(), e);
    }
    byte[] json = json(event);
    try {
      store.put(key, json, "application/json");
    } catch (ObjectStoreException e) {
      // Even "access denied" or a skewed clock: the bucket is the deployment's own, so the cause is
      // ours to fix, and dead-lettering meanwhile would drop every answer until it is.
      throw new RetriableProcessingException("object store: " + e.getMessage(), e);
    }
  }
}
