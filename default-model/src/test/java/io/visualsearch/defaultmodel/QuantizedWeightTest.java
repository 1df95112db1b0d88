package io.visualsearch.defaultmodel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class QuantizedWeightTest {

  @Test
  void dequantisesWithTheAffineMapRoundedOnceToFloat() {
    double min = -0.7601351137254753;
    double scale = 0.007836444471396652;
    QuantizedWeight w = new QuantizedWeight("k", new long[] {2, 2}, min, scale, new byte[] {0, 1, (byte) 128, (byte) 255});
    float[] values = w.dequantise();
    assertEquals((float) min, values[0], 0f);
    assertEquals((float) (scale + min), values[1], 0f);
    assertEquals((float) (128 * scale + min), values[2], 0f);
    assertEquals((float) (255 * scale + min), values[3], 0f);
    // one rounding in double then to float, not float arithmetic (which differs for some codes)
    float[] table = w.dequantisationTable();
    int differing = 0;
    for (int q = 0; q < 256; q++) {
      if (table[q] != (float) q * (float) scale + (float) min) {
        differing++;
      }
    }
    assertEquals(true, differing > 0, "float32 arithmetic would not reproduce TensorFlow.js's weights");
  }

  @Test
  void rejectsCodesThatDoNotFillTheShape() {
    assertThrows(IllegalArgumentException.class, () -> new QuantizedWeight("k", new long[] {3, 3}, 0, 1, new byte[8]));
  }

  @Test
  void lastDimensionIsTheChannelCount() {
    QuantizedWeight w = new QuantizedWeight("k", new long[] {1, 1, 2, 3}, 0, 1, new byte[6]);
    assertEquals(3, w.lastDimension());
    assertArrayEquals(new float[] {0, 0, 0, 0, 0, 0}, w.dequantise());
  }
}
