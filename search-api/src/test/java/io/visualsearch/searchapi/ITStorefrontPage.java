package io.visualsearch.searchapi;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.visualsearch.imagevalidation.HostileImages;
import io.visualsearch.proto.events.Product;
import io.visualsearch.searchapi.similar.SimilarItemsFile;
import io.visualsearch.stack.EmbeddedStack;
import io.visualsearch.stack.HeadlessChromium;
import io.visualsearch.stack.StackExtension;
import java.awt.Color;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The storefront page in headless Chromium: upload a photo, see results, open "similar items", crop
 * by mouse drag (also on a photo sent scaled down, and on a phone photo stored sideways with an EXIF
 * orientation), the crop box through a reflow; the page's
 * security headers, feed links that are not web addresses, keyboard and screen-reader access, a late
 * answer or a failed search that must not leave earlier results shown, blob: addresses released.
 */
@ExtendWith(StackExtension.class)
class ITStorefrontPage {

  static final String KEY = "page-key-0123456789abcdef";

  /**
   * Records the crop, the image size, the image and the abort signal of every search the page sends
   * (window.searchedCrops, searchedBytes, searchedImages, searchSignals); with window.holdNextSearch
   * set, holds that search until window.releaseHeldSearch() and then sets window.heldSearchSettled
   * once the page has handled its answer (its microtasks run before the timer).
   * window.holdNextSimilar does the same for the next "similar items" request (releaseHeldSimilar,
   * heldSimilarSettled).
   */
  static final String FETCH_SPY = """
      const realFetch = window.fetch.bind(window);
      window.searchedCrops = [];
      window.searchedBytes = [];
      window.searchedImages = [];
      window.searchSignals = [];
      const held = (name, url, options) => {
        if (!window['holdNext' + name]) return realFetch(url, options);
        window['holdNext' + name] = false;
        const settled = () => setTimeout(() => { window['held' + name + 'Settled'] = true; }, 0);
        return new Promise((release) => { window['releaseHeld' + name] = release; })
          .then(() => realFetch(url, options))
          .then((response) => {
            const json = response.json.bind(response);
            response.json = () => json().finally(settled);
            return response;
          }, (error) => { settled(); throw error; });
      };
      window.fetch = (url, options) => {
        if (String(url).includes('/similar?')) return held('Similar', url, options);
        if (!String(url).endsWith('/api/v1/search')) return realFetch(url, options);
        window.searchedCrops.push(options.body.get('crop'));
        window.searchedBytes.push(options.body.get('image').size);
        window.searchedImages.push(options.body.get('image'));
        window.searchSignals.push(options.signal);
        return held('Search', url, options);
      };
      """;

  @Test
  void uploadingAPhotoShowsMatchingProductsAndTheirSimilarItems(EmbeddedStack stack, @TempDir Path dir) throws Exception {
    try (StackFixture fx = new StackFixture(stack, Map.of("SEARCH_API_KEYS", "page:" + KEY,
        "KAFKA_GROUP_ID", "it-storefront"))) {
      Map<String, float[]> vectors = new LinkedHashMap<>();
      Color[] colors = {Color.RED, Color.GREEN, Color.BLUE, Color.ORANGE};
      String[] names = {"red", "green", "blue", "orange"};
      for (int i = 0; i < colors.length; i++) {
        String sku = "page-" + names[i];
        fx.upsertProduct("page", sku, "Page " + names[i] + " dress", "Dresses", (i + 1) * 5_000_000L,
            names[i].equals("orange") ? "out of stock" : "in stock");
        vectors.put(sku, fx.embed(TestImages.picture(64, 64, Color.WHITE, colors[i])));
      }
      // A feed row whose link and picture are not web addresses: the page must not make them an href or src.
      fx.upsertProduct("page", Product.newBuilder().setId("page-hostile").setTitle("Hostile dress")
          .setLink("javascript:alert(document.domain)").setImageLink("data:image/svg+xml,<svg/onload=alert(1)>")
          .setProductType("Dresses").setAvailability("in stock").build());
      vectors.put("page-hostile", fx.embed(TestImages.picture(64, 64, Color.WHITE, Color.MAGENTA)));
      // SKUs the page must encode in the similar-items path (%2F, %25).
      fx.upsertProduct("page", "page/navy", "Page navy dress", "Dresses", 7_000_000L, "in stock");
      vectors.put("page/navy", fx.embed(TestImages.picture(64, 64, Color.WHITE, Color.YELLOW)));
      fx.upsertProduct("page", "page-50%", "Page sale dress", "Dresses", 8_000_000L, "in stock");
      vectors.put("page-50%", fx.embed(TestImages.picture(64, 64, Color.WHITE, Color.PINK)));
      fx.publication.publish("page", "20250102T000000Z-page1", 1, vectors, 1, fx.embeddingsEnd());
      fx.store.put(SimilarItemsFile.key("page", "page-blue"), new ObjectMapper().writeValueAsBytes(
          new SimilarItemsFile("page", "page-blue", "20250102T000000Z-page1", 1, 0,
              List.of(new SimilarItemsFile.Item("page-green", 0.5f)))), "application/json");
      for (String sku : List.of("page-green", "page/navy", "page-50%")) {
        fx.store.put(SimilarItemsFile.key("page", sku), new ObjectMapper().writeValueAsBytes(
            new SimilarItemsFile("page", sku, "20250102T000000Z-page1", 1, 0,
                List.of(new SimilarItemsFile.Item("page-red", 0.5f)))), "application/json");
      }
      SearchApiService service = fx.startService();
      String base = "http://127.0.0.1:" + service.httpPort();
      HttpClient http = HttpClient.newHttpClient();
      await().atMost(Duration.ofSeconds(60)).until(() -> http.send(HttpRequest.newBuilder(URI.create(base + "/readyz"))
          .build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200);

      for (String path : List.of("/", "/static/app.js", "/static/style.css")) {
        HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(base + path)).build(),
            HttpResponse.BodyHandlers.discarding());
        String csp = r.headers().firstValue("Content-Security-Policy").orElse("");
        assertTrue(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), path + ": " + csp);
        assertFalse(csp.contains("unsafe-inline"), path + ": " + csp);
        assertEquals("nosniff", r.headers().firstValue("X-Content-Type-Options").orElse(null), path);
        // Served no-cache, so every page load asks again: with the validator the answer is a 304, no body.
        String etag = r.headers().firstValue("ETag").orElseThrow(() -> new AssertionError(path + " has no ETag"));
        HttpResponse<byte[]> again = http.send(HttpRequest.newBuilder(URI.create(base + path))
            .header("If-None-Match", "\"stale\", W/" + etag).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(304, again.statusCode(), path);
        assertEquals(0, again.body().length, path);
        assertEquals(etag, again.headers().firstValue("ETag").orElse(null), path);
        HttpResponse<byte[]> changed = http.send(HttpRequest.newBuilder(URI.create(base + path))
            .header("If-None-Match", "\"an-older-version\"").build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, changed.statusCode(), path);
        assertTrue(changed.body().length > 0, path);
      }
      // An encoded SKU reaches its similar items; an encoded '/' elsewhere is no route, never the
      // page, a static file or the health page it would decode to.
      for (String sku : List.of("page%2Fnavy", "page-50%25")) {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/products/" + sku
            + "/similar")).header("Authorization", "Bearer " + KEY).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), sku + ": " + r.body());
        assertTrue(r.body().contains("page-red"), r.body());
      }
      for (String path : List.of("/static%2Fapp.js", "/ops%2Fhealth", "/ops%2Fhealth.json", "/api/v1%2Fsearch",
          "/%2Fstatic/app.js")) {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + path)).build(),
            HttpResponse.BodyHandlers.ofString());
        assertTrue(r.statusCode() == 404 || r.statusCode() == 400, path + ": " + r.statusCode() + " " + r.body());
      }

      Path photo = dir.resolve("shopper-photo.jpg");
      // Taller than the page shows it (420 px): a crop drawn on screen is scaled back to the photo's pixels.
      Files.write(photo, TestImages.jpeg(800, 600, Color.WHITE, Color.BLUE));
      byte[] redPhoto = TestImages.jpeg(800, 600, Color.WHITE, Color.RED);
      // 54 MP, over SEARCH_MAX_IMAGE_PIXELS (40 MP); flat colours keep the file small.
      Path large = dir.resolve("phone-photo.jpg");
      Files.write(large, largePhoto(9000, 6000));

      try (HeadlessChromium chromium = HeadlessChromium.start()) {
        ChromeDriver browser = chromium.browser();
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
        browser.get(base + "/");
        assertEquals("Visual search", browser.getTitle());
        // Watches the page's API calls (the crop each search sends) and can hold the next search's
        // answer back until released. Installed through the driver, which the page's CSP does not limit.
        browser.executeScript(FETCH_SPY);
        // From the key field the keyboard reaches a photo picker (a file input off screen, not
        // display:none), and the picker's label shows that it has the focus.
        WebElement keyField = browser.findElement(By.id("api-key"));
        keyField.sendKeys(KEY);
        keyField.sendKeys(Keys.TAB);
        assertEquals("file", browser.executeScript("return document.activeElement.type;"));
        assertFalse("none".equals(browser.executeScript(
            "return getComputedStyle(document.activeElement.closest('label')).outlineStyle;")));
        browser.findElement(By.id("file")).sendKeys(photo.toString());
        wait.until(d -> !d.findElements(By.cssSelector("#results li.result")).isEmpty());
        List<WebElement> results = browser.findElements(By.cssSelector("#results li.result"));
        assertEquals("page-blue", results.get(0).getAttribute("data-sku"));
        assertEquals("Page blue dress", results.get(0).findElement(By.className("title")).getText());
        assertTrue(results.get(0).findElement(By.className("price")).getText().startsWith("15.00"));
        assertTrue(browser.findElement(By.id("status")).getText().contains("20250102T000000Z-page1"));
        WebElement hostile = browser.findElement(By.cssSelector("#results li.result[data-sku='page-hostile']"));
        assertEquals("span", hostile.findElement(By.className("title")).getTagName());
        assertEquals(null, hostile.findElement(By.tagName("img")).getDomAttribute("src"));
        assertEquals("a", results.get(0).findElement(By.className("title")).getTagName(), "a web link stays a link");
        // What cannot be bought says so; "In stock only" searches again without it.
        WebElement soldOut = browser.findElement(By.cssSelector("#results li.result[data-sku='page-orange']"));
        assertEquals("Out of stock", soldOut.findElement(By.className("availability")).getText());
        assertTrue(results.get(0).findElements(By.className("availability")).isEmpty(), "in stock needs no label");
        int allShown = results.size();
        browser.findElement(By.id("in-stock")).click();
        browser.findElement(By.id("search")).click();
        wait.until(d -> d.findElements(By.cssSelector("#results li.result")).size() == allShown - 1);
        assertTrue(browser.findElements(By.cssSelector("#results li.result[data-sku='page-orange']")).isEmpty());
        browser.findElement(By.id("in-stock")).click();
        browser.findElement(By.id("search")).click();
        wait.until(d -> d.findElements(By.cssSelector("#results li.result")).size() == allShown);
        results = browser.findElements(By.cssSelector("#results li.result"));
        // A screen reader's list of buttons tells the cards' "Similar items" apart.
        String similarName = results.get(0).findElement(By.tagName("button")).getAccessibleName();
        assertTrue(similarName.contains("Page blue dress"), similarName);

        results.get(0).findElement(By.tagName("button")).click();
        wait.until(d -> d.findElement(By.id("results-title")).getText().startsWith("Similar to"));
        List<WebElement> similar = browser.findElements(By.cssSelector("#results li.result"));
        assertEquals(1, similar.size());
        assertEquals("page-green", similar.get(0).getAttribute("data-sku"));
        browser.findElement(By.id("back")).click();
        // SKUs holding '/' or '%' have their similar items too.
        for (String sku : List.of("page/navy", "page-50%")) {
          browser.findElement(By.cssSelector("#results li.result[data-sku='" + sku + "'] button")).click();
          wait.until(d -> d.findElement(By.id("results-title")).getText().startsWith("Similar to")
              || d.findElement(By.id("status")).getAttribute("class").contains("error"));
          assertFalse(browser.findElement(By.id("status")).getAttribute("class").contains("error"),
              sku + ": " + browser.findElement(By.id("status")).getText());
          assertEquals("page-red", browser.findElement(By.cssSelector("#results li.result")).getAttribute("data-sku"));
          browser.findElement(By.id("back")).click();
        }

        // The photo is not natively draggable: a desktop browser would drag the picture itself and
        // cancel the crop gesture's pointer.
        WebElement preview = browser.findElement(By.id("preview"));
        assertEquals(true, browser.executeScript("const e = new DragEvent('dragstart', {bubbles: true, cancelable: true});"
            + " arguments[0].dispatchEvent(e); return e.defaultPrevented;", preview));
        // A drag with the mouse searches the dragged region, in the photo's own pixels. Where the
        // pointer went down and up is recorded as the page sees it (the driver aims at the part of
        // the photo in view, not at its centre).
        recordPointer(browser);
        new Actions(browser).moveToElement(preview, -60, -40).clickAndHold().moveByOffset(100, 70).release().perform();
        wait.until(d -> ((List<?>) browser.executeScript("return window.searchedCrops;")).stream()
            .anyMatch(java.util.Objects::nonNull));
        Map<String, Number> shown = shown(browser, preview);
        assertTrue(shown.get("nw").doubleValue() / shown.get("w").doubleValue() > 1.2
            && shown.get("nh").doubleValue() / shown.get("h").doubleValue() > 1.2,
            "the photo is shown scaled down: " + shown);
        assertCropSent(browser, shown, shown.get("nw").doubleValue(), shown.get("nh").doubleValue(), 1.0);
        wait.until(d -> d.findElement(By.id("search")).isEnabled());

        // The crop box stays on the part of the photo it was drawn on when the page reflows: a
        // narrower window shows the photo smaller.
        String boxInPhoto = "const p = document.getElementById('preview').getBoundingClientRect(),"
            + " b = document.getElementById('crop').getBoundingClientRect();"
            + " return [(b.left - p.left) / p.width, (b.top - p.top) / p.height,"
            + " b.width / p.width, b.height / p.height, p.width, p.height];";
        List<?> drawn = (List<?>) browser.executeScript(boxInPhoto);
        Dimension window = browser.manage().window().getSize();
        browser.manage().window().setSize(new Dimension(500, window.getHeight()));
        wait.until(d -> ((Number) ((List<?>) browser.executeScript(boxInPhoto)).get(4)).doubleValue()
            < ((Number) drawn.get(4)).doubleValue() - 50);
        List<?> reflowed = (List<?>) browser.executeScript(boxInPhoto);
        for (int i = 0; i < 4; i++) {
          double size = ((Number) reflowed.get(4 + i % 2)).doubleValue();
          assertEquals(((Number) drawn.get(i)).doubleValue() * size, ((Number) reflowed.get(i)).doubleValue() * size,
              1.5, "crop box in the photo, drawn " + drawn + ", after the reflow " + reflowed);
        }
        browser.manage().window().setSize(window);
        // A gesture the browser cancels leaves the crop as it was, instead of a box that follows the
        // mouse with no button pressed.
        WebElement cropBox = browser.findElement(By.id("crop"));
        String boxBefore = cropBox.getAttribute("style");
        new Actions(browser).moveToElement(preview, 10, 10).clickAndHold().perform();
        browser.executeScript("document.getElementById('stage').dispatchEvent("
            + "new PointerEvent('pointercancel', {bubbles: true, pointerId: 1, pointerType: 'mouse'}));");
        new Actions(browser).moveByOffset(40, 40).release().perform();
        assertEquals(boxBefore, cropBox.getAttribute("style"));

        // A tap on the photo drops the crop and searches the whole photo again, as "Whole photo" does.
        long searchesBefore = ((List<?>) browser.executeScript("return window.searchedCrops;")).size();
        new Actions(browser).moveToElement(preview, 10, 10).click().perform();
        wait.until(d -> ((List<?>) browser.executeScript("return window.searchedCrops;")).size() > searchesBefore);
        List<?> afterTap = (List<?>) browser.executeScript("return window.searchedCrops;");
        assertEquals(null, afterTap.get(afterTap.size() - 1));
        assertFalse(cropBox.isDisplayed());
        wait.until(d -> d.findElement(By.id("search")).isEnabled());

        // A search answered after a later request must not replace that request's results.
        browser.executeScript("window.holdNextSearch = true;");
        browser.findElement(By.id("search")).click();
        wait.until(d -> browser.executeScript("return window.releaseHeldSearch;") != null);
        browser.findElements(By.cssSelector("#results li.result button")).get(0).click();
        wait.until(d -> d.findElement(By.id("results-title")).getText().startsWith("Similar to"));
        browser.executeScript("window.releaseHeldSearch();");
        wait.until(d -> Boolean.TRUE.equals(browser.executeScript("return window.heldSearchSettled;")));
        assertTrue(browser.findElement(By.id("results-title")).getText().startsWith("Similar to"),
            browser.findElement(By.id("results-title")).getText());

        // Back while a "similar items" answer is on its way: the photo's results stay.
        browser.executeScript("window.holdNextSimilar = true;");
        browser.findElement(By.cssSelector("#results li.result[data-sku='page-green'] button")).click();
        wait.until(d -> browser.executeScript("return window.releaseHeldSimilar;") != null);
        browser.findElement(By.id("back")).click();
        assertEquals("Looks like your photo", browser.findElement(By.id("results-title")).getText());
        browser.executeScript("window.releaseHeldSimilar();");
        wait.until(d -> Boolean.TRUE.equals(browser.executeScript("return window.heldSimilarSettled;")));
        assertEquals("Looks like your photo", browser.findElement(By.id("results-title")).getText());
        assertEquals("page-blue",
            browser.findElements(By.cssSelector("#results li.result")).get(0).getAttribute("data-sku"));

        // Another photo chosen while a search of this one is on its way: that search is aborted and
        // this photo's results go at once (choosing fires no load yet, so the new photo has not
        // searched), and the new photo gets its own results.
        browser.executeScript("window.releaseHeldSearch = null; window.heldSearchSettled = false;"
            + " window.holdNextSearch = true;");
        browser.findElement(By.id("search")).click();
        wait.until(d -> browser.executeScript("return window.releaseHeldSearch;") != null);
        @SuppressWarnings("unchecked")
        Map<String, Object> afterChoosing = (Map<String, Object>) browser.executeScript(
            "const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));"
            + " const files = new DataTransfer(); files.items.add(new File([bytes], 'red.jpg', {type: 'image/jpeg'}));"
            + " const input = document.getElementById('file'); input.files = files.files;"
            + " input.dispatchEvent(new Event('change', {bubbles: true}));"
            + " return {aborted: window.searchSignals[window.searchSignals.length - 1].aborted,"
            + " shown: document.querySelectorAll('#results li.result').length};",
            Base64.getEncoder().encodeToString(redPhoto));
        assertEquals(Map.of("aborted", true, "shown", 0L), afterChoosing);
        browser.executeScript("window.releaseHeldSearch();");
        wait.until(d -> Boolean.TRUE.equals(browser.executeScript("return window.heldSearchSettled;")));
        wait.until(d -> !d.findElements(By.cssSelector("#results li.result")).isEmpty());
        assertEquals("page-red",
            browser.findElements(By.cssSelector("#results li.result")).get(0).getAttribute("data-sku"));
        assertEquals("Looks like your photo", browser.findElement(By.id("results-title")).getText());
        wait.until(d -> d.findElement(By.id("search")).isEnabled());

        // A wrong key shows the API's message instead of results, and the earlier search's results go.
        WebElement key = browser.findElement(By.id("api-key"));
        key.clear();
        key.sendKeys("wrong-key-0123456789abcdef");
        browser.findElement(By.id("search")).click();
        wait.until(d -> d.findElement(By.id("status")).getAttribute("class").contains("error"));
        assertTrue(browser.findElement(By.id("status")).getText().contains("not valid"));
        assertTrue(browser.findElements(By.cssSelector("#results li.result")).isEmpty());
        assertFalse(browser.findElement(By.id("results-section")).isDisplayed());

        // A link carrying the key (as the demo prints it) searches without pasting it, and the key
        // leaves the address bar.
        browser.get(base + "/?from=demo#key=" + KEY);
        assertEquals(KEY, browser.findElement(By.id("api-key")).getAttribute("value"));
        assertEquals(base + "/?from=demo", browser.getCurrentUrl());
        assertTrue(browser.findElement(By.id("intro")).isDisplayed(), "the empty page says what it is for");
        browser.executeScript("window.revoked = []; const revoke = URL.revokeObjectURL.bind(URL);"
            + " URL.revokeObjectURL = (url) => { window.revoked.push(url); revoke(url); };");
        browser.findElement(By.id("file")).sendKeys(photo.toString());
        wait.until(d -> !d.findElements(By.cssSelector("#results li.result")).isEmpty());
        assertEquals("page-blue",
            browser.findElements(By.cssSelector("#results li.result")).get(0).getAttribute("data-sku"));
        assertFalse(browser.findElement(By.id("intro")).isDisplayed());
        String firstPhotoUrl = browser.findElement(By.id("preview")).getDomProperty("src");
        assertTrue(firstPhotoUrl.startsWith("blob:"), firstPhotoUrl);

        // A file the browser cannot decode says so, and the previous photo's results go.
        Path notAnImage = dir.resolve("x.jpg");
        byte[] noise = new byte[4096];
        new java.util.Random(7).nextBytes(noise);
        Files.write(notAnImage, noise);
        browser.findElement(By.id("file")).sendKeys(notAnImage.toString());
        wait.until(d -> d.findElement(By.id("status")).getAttribute("class").contains("error"));
        assertTrue(browser.findElement(By.id("status")).getText().contains("not an image"),
            browser.findElement(By.id("status")).getText());
        assertTrue(browser.findElements(By.cssSelector("#results li.result")).isEmpty());
        // The previous photo's blob: address is released once another is chosen; the one shown is kept.
        assertEquals(List.of(firstPhotoUrl), browser.executeScript("return window.revoked;"));

        // A phone's 48 MP photo, over the server's pixel limit, is sent scaled down and finds the
        // same product; what goes up is a small JPEG, not the original.
        browser.get(base + "/");
        browser.executeScript(FETCH_SPY);
        browser.findElement(By.id("file")).sendKeys(large.toString());
        wait.until(d -> !d.findElements(By.cssSelector("#results li.result")).isEmpty()
            || d.findElement(By.id("status")).getAttribute("class").contains("error"));
        assertFalse(browser.findElement(By.id("status")).getAttribute("class").contains("error"),
            browser.findElement(By.id("status")).getText());
        assertEquals("page-blue",
            browser.findElements(By.cssSelector("#results li.result")).get(0).getAttribute("data-sku"));
        List<?> sizes = (List<?>) browser.executeScript("return window.searchedBytes;");
        assertEquals(1, sizes.size());
        long sentBytes = ((Number) sizes.get(0)).longValue();
        assertTrue(sentBytes < 1024 * 1024 && sentBytes < Files.size(large), sentBytes + " bytes sent of "
            + Files.size(large));
        wait.until(d -> d.findElement(By.id("search")).isEnabled());

        // A crop on it is scaled with the photo: inside the upload's own pixels, where the drag was.
        List<?> uploaded = (List<?>) browser.executeAsyncScript("const done = arguments[arguments.length - 1];"
            + " createImageBitmap(window.searchedImages[0]).then(b => done([b.width, b.height]));");
        double uploadWidth = ((Number) uploaded.get(0)).doubleValue();
        double uploadHeight = ((Number) uploaded.get(1)).doubleValue();
        assertEquals(List.of(1024L, 683L), uploaded, "the upload is the photo at 1024 px");
        WebElement largePreview = browser.findElement(By.id("preview"));
        recordPointer(browser);
        new Actions(browser).moveToElement(largePreview, -60, -40).clickAndHold().moveByOffset(100, 70).release()
            .perform();
        wait.until(d -> ((List<?>) browser.executeScript("return window.searchedCrops;")).size() == 2);
        // Rounded twice (to the photo's pixels, then each edge to the upload's), so within 1.5 px.
        String[] sent = assertCropSent(browser, shown(browser, largePreview), uploadWidth, uploadHeight, 1.5);
        assertTrue(Integer.parseInt(sent[0]) + Integer.parseInt(sent[2]) <= uploadWidth
            && Integer.parseInt(sent[1]) + Integer.parseInt(sent[3]) <= uploadHeight, String.join(",", sent));
        wait.until(d -> d.findElement(By.id("search")).isEnabled());
        assertFalse(browser.findElement(By.id("status")).getAttribute("class").contains("error"),
            browser.findElement(By.id("status")).getText());
        assertFalse(browser.findElements(By.cssSelector("#results li.result")).isEmpty());

        // A tap whose pointer slips 2 px is still a tap, the whole photo, though on this photo 2 px
        // of screen are 28 of its own pixels.
        new Actions(browser).moveToElement(largePreview, 10, 10).clickAndHold().moveByOffset(2, 2).release().perform();
        wait.until(d -> ((List<?>) browser.executeScript("return window.searchedCrops;")).size() == 3);
        assertEquals(null, ((List<?>) browser.executeScript("return window.searchedCrops;")).get(2));
      }
    }
  }

  /**
   * A phone photo is stored sideways with an EXIF orientation tag. The shopper crops the photo as
   * the page shows it (upright), and the server must search that region: the page's crop and the
   * server's decoding agree on which way is up, for a photo sent as it is and for one the page
   * redraws smaller before sending.
   */
  @Test
  void aCropOnASidewaysStoredPhotoSearchesTheRegionTheShopperSaw(EmbeddedStack stack, @TempDir Path dir)
      throws Exception {
    String key = "turned-key-0123456789abcdef";
    try (StackFixture fx = new StackFixture(stack, Map.of("SEARCH_API_KEYS", "turned:" + key,
        "KAFKA_GROUP_ID", "it-storefront-turned"))) {
      Map<String, float[]> vectors = new LinkedHashMap<>();
      Color[] colors = {Color.RED, Color.GREEN, Color.BLUE, Color.ORANGE};
      String[] names = {"red", "green", "blue", "orange"};
      for (int i = 0; i < colors.length; i++) {
        String sku = "turned-" + names[i];
        fx.upsertProduct("turned", sku, "Turned " + names[i] + " shirt", "Shirts", (i + 1) * 5_000_000L, "in stock");
        vectors.put(sku, fx.embed(TestImages.picture(64, 64, Color.WHITE, colors[i])));
      }
      fx.publication.publish("turned", "20250103T000000Z-turned1", 1, vectors, 1, fx.embeddingsEnd());
      SearchApiService service = fx.startService();
      String base = "http://127.0.0.1:" + service.httpPort();
      HttpClient http = HttpClient.newHttpClient();
      await().atMost(Duration.ofSeconds(60)).until(() -> http.send(HttpRequest.newBuilder(URI.create(base + "/readyz"))
          .build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200);

      // Upright, a red shirt above a blue one; stored turned a quarter left, tagged "rotate 90°
      // clockwise to view" (orientation 6), as a phone held upright writes it.
      Path small = dir.resolve("turned-small.jpg");
      Files.write(small, HostileImages.withExifOrientation(HostileImages.jpeg(storedSideways(400), false), 6));
      Path large = dir.resolve("turned-large.jpg");
      Files.write(large, HostileImages.withExifOrientation(HostileImages.jpeg(storedSideways(1400), false), 6));

      try (HeadlessChromium chromium = HeadlessChromium.start()) {
        ChromeDriver browser = chromium.browser();
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
        browser.get(base + "/#key=" + key);
        browser.executeScript(FETCH_SPY);
        for (Path photo : List.of(small, large)) {
          int searches = ((List<?>) browser.executeScript("return window.searchedCrops;")).size();
          browser.findElement(By.id("file")).sendKeys(photo.toString());
          wait.until(d -> ((List<?>) browser.executeScript("return window.searchedCrops;")).size() > searches);
          wait.until(d -> d.findElement(By.id("search")).isEnabled());
          WebElement preview = browser.findElement(By.id("preview"));
          @SuppressWarnings("unchecked")
          Map<String, Number> box = (Map<String, Number>) browser.executeScript("arguments[0].scrollIntoView({block:"
              + " 'center'}); const r = arguments[0].getBoundingClientRect(); return {left: r.left, top: r.top,"
              + " w: r.width, h: r.height, nw: arguments[0].naturalWidth, nh: arguments[0].naturalHeight};", preview);
          assertTrue(box.get("h").doubleValue() > box.get("w").doubleValue() * 1.5
              && box.get("nh").doubleValue() > box.get("nw").doubleValue() * 1.5, "shown upright: " + box);
          double left = box.get("left").doubleValue();
          double top = box.get("top").doubleValue();
          double w = box.get("w").doubleValue();
          double h = box.get("h").doubleValue();
          // Each half of the upright photo is one shirt: cropping it finds that shirt first.
          for (String half : List.of("top", "bottom")) {
            int sent = ((List<?>) browser.executeScript("return window.searchedCrops;")).size();
            double y0 = half.equals("top") ? top + 3 : top + h / 2 + 3;
            new Actions(browser).moveToLocation((int) Math.ceil(left + 3), (int) Math.ceil(y0)).clickAndHold()
                .moveToLocation((int) Math.floor(left + w - 3), (int) Math.floor(y0 + h / 2 - 6)).release().perform();
            wait.until(d -> ((List<?>) browser.executeScript("return window.searchedCrops;")).size() > sent);
            wait.until(d -> d.findElement(By.id("search")).isEnabled());
            assertFalse(browser.findElement(By.id("status")).getAttribute("class").contains("error"),
                photo.getFileName() + " " + half + ": " + browser.findElement(By.id("status")).getText());
            List<?> crops = (List<?>) browser.executeScript("return window.searchedCrops;");
            assertEquals(half.equals("top") ? "turned-red" : "turned-blue",
                browser.findElements(By.cssSelector("#results li.result")).get(0).getAttribute("data-sku"),
                photo.getFileName() + ", " + half + " half cropped as " + crops.get(crops.size() - 1));
          }
        }
        // The small photo went up as it was (still stored sideways, with its tag); the large one
        // was redrawn upright at 1024 px, with no tag left to turn it.
        List<?> bytes = (List<?>) browser.executeScript("return window.searchedBytes;");
        assertEquals(Files.size(small), ((Number) bytes.get(0)).longValue());
        Object uploaded = browser.executeAsyncScript("const done = arguments[arguments.length - 1];"
            + " createImageBitmap(window.searchedImages[window.searchedImages.length - 1])"
            + ".then(b => done(b.width + 'x' + b.height));");
        assertEquals("512x1024", uploaded);
      }
    }
  }

  /**
   * A photo whose upright view is a red shirt above a blue one, each on a white square of
   * {@code side} px, stored turned a quarter left (so that turning it 90° clockwise shows it upright).
   */
  static java.awt.image.BufferedImage storedSideways(int side) {
    java.awt.image.BufferedImage upright = new java.awt.image.BufferedImage(side, 2 * side,
        java.awt.image.BufferedImage.TYPE_3BYTE_BGR);
    java.awt.Graphics2D g = upright.createGraphics();
    g.drawImage(TestImages.picture(side, side, Color.WHITE, Color.RED), 0, 0, null);
    g.drawImage(TestImages.picture(side, side, Color.WHITE, Color.BLUE), 0, side, null);
    g.dispose();
    java.awt.image.BufferedImage stored = new java.awt.image.BufferedImage(2 * side, side,
        java.awt.image.BufferedImage.TYPE_3BYTE_BGR);
    for (int y = 0; y < side; y++) {
      for (int x = 0; x < 2 * side; x++) {
        // Turning the stored picture clockwise puts its pixel (x, y) at (side - 1 - y, x).
        stored.setRGB(x, y, upright.getRGB(side - 1 - y, x));
      }
    }
    return stored;
  }

  /** Records where the pointer goes down and up as the page sees it (window.pointerAt). */
  static void recordPointer(ChromeDriver browser) {
    browser.executeScript("window.pointerAt = []; for (const type of ['pointerdown', 'pointerup']) {"
        + " document.getElementById('stage').addEventListener(type, e => window.pointerAt.push("
        + "{x: e.clientX, y: e.clientY}), true); }");
  }

  /** The preview's place and natural size, and the last drag recorded on it (down x0,y0, up x1,y1). */
  @SuppressWarnings("unchecked")
  static Map<String, Number> shown(ChromeDriver browser, WebElement preview) {
    return (Map<String, Number>) browser.executeScript("const r = arguments[0]"
        + ".getBoundingClientRect(); const [down, up] = window.pointerAt.slice(-2); return {left: r.left, top: r.top,"
        + " w: r.width, h: r.height, nw: arguments[0].naturalWidth, nh: arguments[0].naturalHeight,"
        + " x0: down.x, y0: down.y, x1: up.x, y1: up.y};", preview);
  }

  /**
   * The last search's crop is the drag recorded on the preview, in a picture of width x height (the
   * photo's own pixels, or the scaled-down upload's), to within the rounding of each step.
   */
  static String[] assertCropSent(ChromeDriver browser, Map<String, Number> shown, double width, double height,
      double tolerance) {
    double sx = width / shown.get("w").doubleValue();
    double sy = height / shown.get("h").doubleValue();
    double left = shown.get("left").doubleValue();
    double top = shown.get("top").doubleValue();
    double[] expected = {(shown.get("x0").doubleValue() - left) * sx, (shown.get("y0").doubleValue() - top) * sy,
        (shown.get("x1").doubleValue() - shown.get("x0").doubleValue()) * sx,
        (shown.get("y1").doubleValue() - shown.get("y0").doubleValue()) * sy};
    List<?> crops = (List<?>) browser.executeScript("return window.searchedCrops;");
    String[] sent = String.valueOf(crops.get(crops.size() - 1)).split(",");
    for (int i = 0; i < 4; i++) {
      assertEquals(expected[i], Double.parseDouble(sent[i]), tolerance, "crop " + String.join(",", sent) + " against "
          + java.util.Arrays.toString(expected) + " in " + width + "x" + height + " from " + shown);
    }
    return sent;
  }

  /** A large JPEG, drawn three bytes a pixel: an int-per-pixel picture of 54 MP takes 216 MB of heap. */
  static byte[] largePhoto(int w, int h) {
    java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(w, h,
        java.awt.image.BufferedImage.TYPE_3BYTE_BGR);
    java.awt.Graphics2D g = img.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, w, h);
    g.setColor(Color.BLUE);
    g.fillRect(w / 4, h / 4, w / 2, h / 2);
    g.dispose();
    return TestImages.encode(img, "jpeg");
  }
}
