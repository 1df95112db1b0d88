package io.visualsearch.searchapi.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link Base64Text} against what it replaced: strip CR, LF and spaces, then java.util.Base64's strict decoder. */
class Base64TextTest {

  static byte[] reference(String text) {
    int comma = text.startsWith("data:") ? text.indexOf(',') : -1;
    return Base64.getDecoder().decode((comma >= 0 ? text.substring(comma + 1) : text).replaceAll("[\\r\\n ]", ""));
  }

  static void sameAsReference(String text) {
    byte[] expected;
    try {
      expected = reference(text);
    } catch (IllegalArgumentException e) {
      assertThrows(IllegalArgumentException.class, () -> Base64Text.decode(Base64Text.of(text)), text);
      assertThrows(IllegalArgumentException.class, () -> Base64Text.decode(Base64Text.ofJsonString(json(text), 0)),
          text);
      return;
    }
    assertArrayEquals(expected, Base64Text.decode(Base64Text.of(text)), text);
    assertArrayEquals(expected, Base64Text.decode(Base64Text.ofJsonString(json(text), 0)), text);
  }

  /** The text as a JSON string (opening quote at 0), with the escapes encoders use. */
  static byte[] json(String text) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : text.toCharArray()) {
      switch (c) {
        case '/' -> b.append("\\/");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '+' -> b.append("\\u002B");
        default -> b.append(c);
      }
    }
    return b.append("\",\"k\":1}").toString().getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void decodesWhatTheStrictDecoderDecodesAndRefusesWhatItRefuses() {
    for (String s : new String[] {"", " ", "QQ", "QQ==", "QQ=", "QQ=x", "Q", "Q===", "=", "====", "QUI", "QUI=",
        "QUJD", "QUJDRA", "QUJDRA==", "QU JD\r\nRA=\n=", "QUJD====", "QQ==QQ==", "QUJD*", "QU\tJD", "data:image/png;base64,QUJD",
        "data:,QQ==", "data:QUJD", "dat", "QQ== ", "QQ==\n\n", "Q\nQ\n=\n=", "ab/+", "ab-_", "Zm9v\u00e9"}) {
      sameAsReference(s);
    }
  }

  @Test
  void randomPayloadsWrappedAnyhowDecodeAsBefore() {
    Random random = new Random(42);
    for (int i = 0; i < 2000; i++) {
      byte[] data = new byte[random.nextInt(300)];
      random.nextBytes(data);
      String encoded = (random.nextBoolean() ? Base64.getEncoder() : Base64.getEncoder().withoutPadding())
          .encodeToString(data);
      StringBuilder text = new StringBuilder(random.nextInt(4) == 0 ? "data:image/jpeg;base64," : "");
      for (char c : encoded.toCharArray()) {
        int r = random.nextInt(40);
        if (r == 0) {
          text.append("\r\n");
        } else if (r == 1) {
          text.append(' ');
        } else if (r == 2 && random.nextInt(10) == 0) {
          text.append("!*\t=".charAt(random.nextInt(4)));
        }
        text.append(c);
      }
      sameAsReference(text.toString());
    }
  }
}
