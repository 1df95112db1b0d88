package io.visualsearch.catalogfeed;

/** UTF-8 sizes of text held as UTF-16, for limits documented in bytes. */
final class Utf8 {

  private Utf8() {}

  /** UTF-8 length of one UTF-16 unit; a surrogate pair counts 2 + 2 = 4 bytes. */
  static int length(char c) {
    if (c < 0x80) {
      return 1;
    }
    if (c < 0x800 || Character.isSurrogate(c)) {
      return 2;
    }
    return 3;
  }

  static long length(char[] chars, int start, int count) {
    long bytes = 0;
    for (int i = start; i < start + count; i++) {
      bytes += length(chars[i]);
    }
    return bytes;
  }

  static long length(String s) {
    long bytes = 0;
    for (int i = 0; i < s.length(); i++) {
      bytes += length(s.charAt(i));
    }
    return bytes;
  }
}
