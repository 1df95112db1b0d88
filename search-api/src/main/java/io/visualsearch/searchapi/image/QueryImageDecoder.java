package io.visualsearch.searchapi.image;

import com.twelvemonkeys.imageio.stream.ByteArrayImageInputStream;
import io.visualsearch.imagevalidation.DecodeBudget;
import io.visualsearch.imagevalidation.DeclaredSize;
import io.visualsearch.imagevalidation.DecodeWarnings;
import io.visualsearch.imagevalidation.Downscaler;
import io.visualsearch.imagevalidation.ImageValidator;
import io.visualsearch.imagevalidation.JpegScans;
import io.visualsearch.imagevalidation.NormalisedImage;
import io.visualsearch.imagevalidation.UprightPixels;
import io.visualsearch.imagevalidation.ValidationPolicy;
import io.visualsearch.imagevalidation.ValidationResult;
import io.visualsearch.searchapi.ApiException;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;

/**
 * Decodes a shopper's upload defensively: the format is recognised from its magic bytes (never
 * from a file name or a declared content type), the declared size is checked from the header as
 * the catalog checks it ({@link DeclaredSize}) before any pixel buffer is allocated, a decoder
 * warning that pixels are missing or garbled (data cut short, a bad Huffman code: {@link
 * DecodeWarnings}, the catalog's rule) rejects the image instead of searching with a half-grey
 * picture, while one about metadata the decoder ignored does not, and the result is what the catalog normaliser makes of the same bytes: upright (EXIF
 * orientation), 8-bit sRGB, transparency over white, at most the catalog's normalised side.
 *
 * <p>It reads what the catalog reads: JPEG, PNG, WebP, and still GIF and BMP (a shopper may upload
 * the retailer's own product picture). GIF and BMP pass the catalog's validator first, see
 * {@link #catalogCopy}.
 */
public final class QueryImageDecoder {

  /**
   * Formats a storefront can send; phones produce JPEG (and WebP), screenshots PNG, and GIF and BMP
   * are what catalogs hold besides (the catalog's validator accepts them).
   */
  public enum Format {
    JPEG("jpeg"), PNG("png"), WEBP("webp"), GIF("gif"), BMP("bmp");

    final String readerName;

    Format(String readerName) {
      this.readerName = readerName;
    }
  }

  private final long maxPixels;
  /** Concurrent queries decode at most maxPixels at once: decoders hold native memory per pixel. */
  private final DecodeBudget budget;
  private final int maxSide;
  /** The catalog's own validator, for the formats whose refusals only it applies (GIF, BMP). */
  private final ImageValidator catalogRules;

  /**
   * @param maxSide the catalog's normalised side (IMAGE_MAX_SIDE): a larger photo is decoded
   *     subsampled and scaled down to it as the catalog's pictures were, instead of reaching the
   *     model client's single-step resize at full size, which skips most of its pixels
   */
  public QueryImageDecoder(long maxPixels, int maxSide) {
    this(maxPixels, maxSide, new DecodeBudget(maxPixels));
  }

  /** The same, decoding within {@code budget} (shared by every request this decoder serves). */
  public QueryImageDecoder(long maxPixels, int maxSide, DecodeBudget budget) {
    this.maxPixels = maxPixels;
    this.budget = budget;
    this.maxSide = maxSide;
    // The catalog's rules with this service's limits: the upload limit was applied to the body.
    this.catalogRules = new ImageValidator(
        new ValidationPolicy(Integer.MAX_VALUE, maxPixels, maxSide, 1, Set.of("gif", "bmp")), budget);
    // Plugins on the class path (TwelveMonkeys) register lazily; scanning once here makes the
    // readers of every format available before the first request.
    ImageIO.scanForPlugins();
  }

  public static Format sniff(byte[] b) {
    if (b.length >= 3 && (b[0] & 0xff) == 0xFF && (b[1] & 0xff) == 0xD8 && (b[2] & 0xff) == 0xFF) {
      return Format.JPEG;
    }
    if (b.length >= 8 && (b[0] & 0xff) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G'
        && b[4] == 0x0D && b[5] == 0x0A && b[6] == 0x1A && b[7] == 0x0A) {
      return Format.PNG;
    }
    if (b.length >= 12 && b[0] == 'R' && b[1] == 'I' && b[2] == 'F' && b[3] == 'F'
        && b[8] == 'W' && b[9] == 'E' && b[10] == 'B' && b[11] == 'P') {
      return Format.WEBP;
    }
    if (b.length >= 6 && b[0] == 'G' && b[1] == 'I' && b[2] == 'F' && b[3] == '8'
        && (b[4] == '7' || b[4] == '9') && b[5] == 'a') {
      return Format.GIF;
    }
    if (b.length >= 2 && b[0] == 'B' && b[1] == 'M') {
      return Format.BMP; // the signature the JDK's reader (the catalog's) goes by
    }
    return null;
  }

  /** Decodes and crops; every refusal is an {@link ApiException} with a 4xx status. */
  public BufferedImage decode(byte[] bytes, CropBox crop) {
    if (bytes == null || bytes.length == 0) {
      throw ApiException.badRequest("missing_image", "the request carries no image");
    }
    Format format = sniff(bytes);
    if (format == null) {
      throw ApiException.unsupportedMedia("unsupported_image_format",
          "the image is not a JPEG, PNG, WebP, GIF or BMP file");
    }
    if (format == Format.GIF || format == Format.BMP) {
      NormalisedImage copy = catalogCopy(format, bytes);
      if (crop == null) {
        // Exactly the catalog's copy of these bytes, decoded once.
        try {
          return NormalisedImage.decode(copy.png());
        } catch (IOException e) {
          throw new IllegalStateException("the validator's own PNG does not decode", e);
        }
      }
      // A crop is read from the file below, as for any format: it may hold more detail than the copy.
    }
    Optional<String> tooManyScans = format == Format.JPEG ? JpegScans.refusal(bytes) : Optional.empty();
    if (tooManyScans.isPresent()) {
      // Each scan is a pass over the whole photo: refused before a decoder spends seconds on it.
      throw ApiException.unprocessable("too_many_scans", tooManyScans.get());
    }
    Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format.readerName);
    if (!readers.hasNext()) {
      throw ApiException.unsupportedMedia("unsupported_image_format", "no decoder for " + format + " is installed");
    }
    ImageReader reader = readers.next();
    List<String> warnings = new ArrayList<>();
    // Read from the array itself: ImageIO.createImageInputStream would copy an InputStream
    // into a temporary file first (ImageIO's disk cache is on by default), on every query.
    try (ImageInputStream in = new ByteArrayImageInputStream(bytes)) {
      reader.setInput(in, true, true);
      reader.addIIOReadWarningListener((IIOReadWarningListener) (source, warning) -> warnings.add(warning));
      int width = reader.getWidth(0);
      int height = reader.getHeight(0);
      if (width <= 0 || height <= 0) {
        throw ApiException.unprocessable("corrupt_image", "the image header declares no pixels");
      }
      // The catalog's own limits: a side too long or a large lossless WebP takes hundreds of
      // megabytes of row buffers or raster from a file of a few hundred bytes, whatever its count.
      Optional<String> tooLarge = DeclaredSize.refusal(format.readerName, width, height, maxPixels, bytes);
      if (tooLarge.isPresent()) {
        throw ApiException.tooLarge("image_too_large", tooLarge.get());
      }
      // The photo as the shopper sees it and as the catalog's copies were normalised: upright
      // (a phone's EXIF orientation applied), sRGB, transparency over white. A crop box is in
      // those upright pixels, as the browser displayed them.
      UprightPixels upright = UprightPixels.of(bytes, format == Format.JPEG, width, height);
      if (crop != null && !crop.fitsIn(upright.width(), upright.height())) {
        throw ApiException.badRequest("crop_out_of_bounds", "crop " + crop + " is not inside the "
            + upright.width() + "x" + upright.height() + " image");
      }
      ImageReadParam param = reader.getDefaultReadParam();
      Rectangle region = new Rectangle(0, 0, width, height);
      if (crop != null) {
        // Decode only the region: a crop of a large photo costs the crop, not the photo.
        region = upright.sourceRegion(new Rectangle(crop.x(), crop.y(), crop.width(), crop.height()));
        param.setSourceRegion(region);
      }
      int step = Downscaler.decodeStep(region.width, region.height, maxSide);
      if (step > 1) {
        param.setSourceSubsampling(step, step, 0, 0);
      }
      BufferedImage decoded;
      try (DecodeBudget.Grant ignored = budget.acquire((long) width * height)) {
        decoded = reader.read(0, param);
      }
      if (crop != null && decoded.getWidth() == width && decoded.getHeight() == height
          && (region.width != width || region.height != height)) {
        // The decoder ignored the region: TwelveMonkeys' lossless JPEG (SOF3) decoder reads the
        // whole photo whatever the param says, and searching it would search what the shopper
        // cropped away. The region is cut here. Its subsampling is ignored too, and is not redone
        // here: the catalog's copy of a lossless JPEG was fitted from full-size pixels as well, so
        // an uncropped query matches it and a crop of the whole photo equals the photo.
        decoded = copyOf(decoded, region);
      }
      // The catalog's rule: a CMYK file without a profile or a damaged profile the decoder ignored
      // is decoded whole, and refusing it here answered 422 to an upload of a catalog picture.
      Optional<String> damaged = DecodeWarnings.pixelsDamaged(warnings);
      if (damaged.isPresent()) {
        throw ApiException.unprocessable("corrupt_image", "the image data is damaged or truncated: " + damaged.get());
      }
      return Downscaler.fit(upright.apply(decoded), maxSide);
    } catch (ApiException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      // Decoders signal broken input with IIOException, EOFException, or for hostile files with
      // runtime exceptions (array bounds, negative sizes); all of them mean "this is not an image".
      throw ApiException.unprocessable("corrupt_image", "the image cannot be decoded (damaged or truncated "
          + format + " data)");
    } catch (OutOfMemoryError e) {
      throw ApiException.tooLarge("image_too_large", "the image is too large to decode");
    } finally {
      reader.dispose();
    }
  }

  /**
   * The catalog's copy of a GIF or BMP, or the catalog's refusal as an API error. Its checks (an
   * animated GIF, a GIF cut before its trailer, a BMP wrapping a JPEG or PNG whose declared size
   * the JDK's reader would allocate) are package-private in image-validation, so its validator
   * is the one way to apply exactly them. A crop then decodes the file a second time.
   */
  private NormalisedImage catalogCopy(Format format, byte[] bytes) {
    ValidationResult result;
    try {
      result = catalogRules.validate(bytes);
    } catch (OutOfMemoryError e) {
      throw ApiException.tooLarge("image_too_large", "the image is too large to decode");
    }
    if (result instanceof ValidationResult.Accepted accepted) {
      return accepted.image();
    }
    ValidationResult.Rejected no = (ValidationResult.Rejected) result;
    throw switch (no.reason()) {
      case TOO_MANY_PIXELS, TOO_LARGE_INPUT -> ApiException.tooLarge("image_too_large", no.message());
      case ANIMATED -> ApiException.unprocessable("animated_image", no.message());
      case UNSUPPORTED_FORMAT, NOT_AN_IMAGE -> ApiException.unsupportedMedia("unsupported_image_format", no.message());
      default -> ApiException.unprocessable("corrupt_image", "the image cannot be decoded (damaged or truncated "
          + format + " data)");
    };
  }

  /** {@code region} of {@code image}, in a raster of its own (not a view holding the whole image). */
  private static BufferedImage copyOf(BufferedImage image, Rectangle region) {
    WritableRaster raster = image.getRaster().createCompatibleWritableRaster(region.width, region.height);
    raster.setRect(image.getRaster().createChild(region.x, region.y, region.width, region.height, 0, 0, null));
    return new BufferedImage(image.getColorModel(), raster, image.isAlphaPremultiplied(), null);
  }
}
