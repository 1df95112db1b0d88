package io.visualsearch.evaluation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ShopperPhotoAlterationTest {

  /** A 28x28 "product": a bright rectangle with a darker stripe on black. */
  private static LabeledImages products(int count) {
    byte[] pixels = new byte[count * 28 * 28];
    for (int n = 0; n < count; n++) {
      for (int y = 4; y < 24; y++) {
        for (int x = 6 + n % 3; x < 22; x++) {
          pixels[n * 784 + y * 28 + x] = (byte) (y == 12 ? 90 : 200);
        }
      }
    }
    return new LabeledImages(pixels, new int[count], 28, 28);
  }

  @Test
  void theSamePhotoForTheSameItemAndSeedWhateverElseIsAltered() {
    LabeledImages images = products(3);
    ShopperPhotoAlteration alteration = new ShopperPhotoAlteration(42);
    byte[] alone = alteration.alter(images, 2, 1234);
    LabeledImages batch = alteration.alterAll(images, new int[] {7, 8, 1234});
    assertArrayEquals(alone, batch.image(2));
    assertArrayEquals(alone, new ShopperPhotoAlteration(42).alter(images, 2, 1234));
  }

  @Test
  void differentSeedsOrItemsGiveDifferentPhotos() {
    LabeledImages images = products(1);
    byte[] a = new ShopperPhotoAlteration(42).alter(images, 0, 5);
    assertFalse(Arrays.equals(a, new ShopperPhotoAlteration(43).alter(images, 0, 5)));
    assertFalse(Arrays.equals(a, new ShopperPhotoAlteration(42).alter(images, 0, 6)));
  }

  @Test
  void thePhotoDiffersFromTheCatalogImageButKeepsTheProduct() {
    LabeledImages images = products(1);
    byte[] original = images.image(0);
    for (long item = 0; item < 20; item++) {
      byte[] photo = new ShopperPhotoAlteration(1).alter(images, 0, item);
      assertFalse(Arrays.equals(original, photo));
      double correlation = correlation(original, photo);
      assertTrue(correlation > 0.6, "item " + item + ": correlation " + correlation);
    }
  }

  private static double correlation(byte[] a, byte[] b) {
    double ma = 0;
    double mb = 0;
    for (int i = 0; i < a.length; i++) {
      ma += a[i] & 0xff;
      mb += b[i] & 0xff;
    }
    ma /= a.length;
    mb /= b.length;
    double cov = 0;
    double va = 0;
    double vb = 0;
    for (int i = 0; i < a.length; i++) {
      double da = (a[i] & 0xff) - ma;
      double db = (b[i] & 0xff) - mb;
      cov += da * db;
      va += da * da;
      vb += db * db;
    }
    return cov / Math.sqrt(va * vb);
  }
}
