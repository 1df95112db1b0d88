package io.visualsearch.searchapi.http;

import java.util.function.Supplier;

/**
 * Decodes a JSON request's {@code image_base64} into an array of exactly the image's size,
 * straight from the characters where they are (the request body's bytes, JSON escapes and all,
 * or a String), without the copies a {@code replaceAll} and {@code substring} of a 13 MB string
 * made. The rules are {@link java.util.Base64#getDecoder()}'s, strict alphabet and padding, after
 * dropping line breaks and spaces anywhere (some encoders wrap their output), and after an optional
 * {@code data:...,} prefix: the MIME decoder would also pass, but it silently skips any garbage.
 */
final class Base64Text {

  /** Characters one at a time: the next one, or -1 at the end. */
  interface Chars {
    int next();
  }

  private static final byte[] VALUES = new byte[128];

  static {
    java.util.Arrays.fill(VALUES, (byte) -1);
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < alphabet.length(); i++) {
      VALUES[alphabet.charAt(i)] = (byte) i;
    }
  }

  private Base64Text() {
  }

  /**
   * The decoded bytes of the text each {@code Chars} from {@code text} reads from its start (it is
   * read three times: prefix, count, decode); IllegalArgumentException when it is not base64.
   */
  static byte[] decode(Supplier<Chars> text) {
    long skip = dataUriPrefix(text.get());
    long data = 0;
    Chars counting = text.get();
    skip(counting, skip);
    for (int c = counting.next(); c >= 0; c = counting.next()) {
      if (value(c) >= 0) {
        data++;
      } else if (c != '=' && !ignored(c)) {
        throw new IllegalArgumentException("not a base64 character");
      }
    }
    if (data % 4 == 1) {
      throw new IllegalArgumentException("the last unit does not have enough bits");
    }
    long size = data / 4 * 3 + (data % 4 == 0 ? 0 : data % 4 - 1);
    if (size > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("too large");
    }
    byte[] out = new byte[(int) size];
    Chars chars = text.get();
    skip(chars, skip);
    int bits = 0;
    int inUnit = 0;
    int at = 0;
    int c;
    while ((c = chars.next()) >= 0) {
      if (ignored(c)) {
        continue;
      }
      if (c == '=') {
        // xx== and xxx= end the data; =, x= and xx=y are wrong, as for java.util.Base64.
        if (inUnit < 2 || inUnit == 2 && nextSignificant(chars) != '=') {
          throw new IllegalArgumentException("wrong padding");
        }
        if (nextSignificant(chars) >= 0) {
          throw new IllegalArgumentException("data after the padding");
        }
        break;
      }
      bits = bits << 6 | value(c);
      if (++inUnit == 4) {
        out[at++] = (byte) (bits >> 16);
        out[at++] = (byte) (bits >> 8);
        out[at++] = (byte) bits;
        bits = 0;
        inUnit = 0;
      }
    }
    if (inUnit == 2) {
      out[at++] = (byte) (bits >> 4);
    } else if (inUnit == 3) {
      out[at++] = (byte) (bits >> 10);
      out[at++] = (byte) (bits >> 2);
    }
    if (at != out.length) {
      throw new IllegalArgumentException("not base64");
    }
    return out;
  }

  /** Characters before the data: through the first comma of a "data:" URI, else none. */
  private static long dataUriPrefix(Chars chars) {
    String data = "data:";
    for (int i = 0; i < data.length(); i++) {
      if (chars.next() != data.charAt(i)) {
        return 0;
      }
    }
    long read = data.length();
    for (int c = chars.next(); c >= 0; c = chars.next()) {
      read++;
      if (c == ',') {
        return read;
      }
    }
    return 0;
  }

  private static void skip(Chars chars, long n) {
    for (long i = 0; i < n; i++) {
      chars.next();
    }
  }

  private static int nextSignificant(Chars chars) {
    int c;
    do {
      c = chars.next();
    } while (c >= 0 && ignored(c));
    return c;
  }

  private static boolean ignored(int c) {
    return c == '\r' || c == '\n' || c == ' ';
  }

  private static int value(int c) {
    return c < 128 ? VALUES[c] : -1;
  }

  /** The characters of {@code s}. */
  static Supplier<Chars> of(String s) {
    return () -> new Chars() {
      private int i;

      @Override
      public int next() {
        return i < s.length() ? s.charAt(i++) : -1;
      }
    };
  }

  /**
   * The characters of the JSON string whose opening quote is {@code body[quote]}, escapes decoded,
   * up to its closing quote. The string must be valid JSON (the parser has checked it); bytes of
   * other characters than ASCII come out as themselves, which are no base64.
   */
  static Supplier<Chars> ofJsonString(byte[] body, int quote) {
    return () -> new Chars() {
      private int i = quote + 1;

      @Override
      public int next() {
        if (i >= body.length) {
          return -1;
        }
        int b = body[i++] & 0xff;
        if (b == '"') {
          i = body.length;
          return -1;
        }
        if (b != '\\' || i >= body.length) {
          return b;
        }
        int e = body[i++];
        return switch (e) {
          case 'b' -> '\b';
          case 'f' -> '\f';
          case 'n' -> '\n';
          case 'r' -> '\r';
          case 't' -> '\t';
          case 'u' -> unicode();
          default -> e; // \" \\ \/
        };
      }

      private int unicode() {
        if (i + 4 > body.length) {
          i = body.length;
          return 0xfffd;
        }
        int v = 0;
        for (int k = 0; k < 4; k++) {
          int d = Character.digit(body[i++], 16);
          if (d < 0) {
            return 0xfffd;
          }
          v = v << 4 | d;
        }
        return v;
      }
    };
  }
}
