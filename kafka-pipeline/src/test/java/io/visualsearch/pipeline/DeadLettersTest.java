package io.visualsearch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class DeadLettersTest {

  private final DeadLetters letters = new DeadLetters("svc");

  @Test
  void theMessageHeaderHoldsTheReasonInWordsAndTheFramesHaveTheirOwn() {
    ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>("catalog.products", 2, 41L,
        "t/sku".getBytes(StandardCharsets.UTF_8), new byte[0]);
    var headers = letters.headersFor(record, new PoisonRecordException("image-invalid",
        "image_link https://img.example/a.jpg: not an image"));
    assertEquals("image_link https://img.example/a.jpg: not an image",
        PipelineHeaders.get(headers, PipelineHeaders.DLQ_EXCEPTION_MESSAGE));
    assertTrue(PipelineHeaders.get(headers, PipelineHeaders.DLQ_EXCEPTION_STACK_TRACE)
        .contains("\tat " + DeadLettersTest.class.getName()));
    assertEquals("image-invalid", PipelineHeaders.get(headers, PipelineHeaders.DLQ_REASON));
    assertEquals("41", PipelineHeaders.get(headers, PipelineHeaders.DLQ_ORIGIN_OFFSET));
  }

  @Test
  @org.junit.jupiter.api.Timeout(10)
  void aCauseChainThatLoopsEnds() {
    IllegalStateException a = new IllegalStateException("a");
    IllegalArgumentException b = new IllegalArgumentException("b");
    a.initCause(b);
    b.initCause(a);
    assertTrue(DeadLetters.messageOf(a).startsWith("a"));
  }

  @Test
  void headersAreCappedInBytesAtACharacterBoundary() {
    String tea = "\u7da0".repeat(5000); // three bytes each in UTF-8
    String capped = DeadLetters.capUtf8(tea, 2048);
    assertEquals(682, capped.length(), "682 whole characters, 2046 bytes");
    assertTrue(capped.getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= 2048);
    var headers = letters.headersFor(new ConsumerRecord<>("t", 0, 0L, new byte[0], new byte[0]),
        new PoisonRecordException("malformed-payload", tea));
    int bytes = 0;
    for (var h : headers) {
      bytes += h.key().length() + h.value().length;
    }
    assertTrue(bytes <= 9000, "a dead-letter copy adds at most ~8 KiB of headers: " + bytes);
  }

  @Test
  void anExceptionWithoutAMessageIsNamedAndARootCauseIsQuoted() {
    assertEquals(NullPointerException.class.getName(), DeadLetters.messageOf(new NullPointerException()));
    IllegalStateException wrapped = new IllegalStateException("cannot read the stored image",
        new RuntimeException("wrapper", new IOException("Connection reset")));
    assertEquals("cannot read the stored image (caused by java.io.IOException: Connection reset)",
        DeadLetters.messageOf(wrapped));
    PoisonRecordException sameText = new PoisonRecordException("malformed-payload", "bad varint: truncated",
        new IOException("truncated"));
    assertEquals("bad varint: truncated", DeadLetters.messageOf(sameText), "a cause the message already quotes");
  }
}
