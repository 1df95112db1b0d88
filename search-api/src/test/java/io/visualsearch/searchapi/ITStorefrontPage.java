package io.visualsearch.searchapi;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

/** The storefront page in headless Chromium: upload a photo, see results, open "similar items". */
@ExtendWith(StackExtension.class)
class ITStorefrontPage {

  static final String KEY = "page-key-0123456789abcdef";

  @Test
  void uploadingAPhotoShowsMatchingProductsAndTheirSimilarItems(EmbeddedStack stack, @TempDir Path dir) throws Exception {
    try (StackFixture fx = new StackFixture(stack, Map.of("SEARCH_API_KEYS", "page:" + KEY,
        "KAFKA_GROUP_ID", "it-storefront"))) {
      Map<String, float[]> vectors = new LinkedHashMap<>();
      Color[] colors = {Color.RED, Color.GREEN, Color.BLUE, Color.ORANGE};
      String[] names = {"red", "green", "blue", "orange"};
      for (int i = 0; i < colors.length; i++) {
        String sku = "page-" + names[i];
        fx.upsertProduct("page", sku, "Page " + names[i] + " dress", "Dresses", (i + 1) * 5_000_000L, "in stock");
        vectors.put(sku, fx.embed(TestImages.picture(64, 64, Color.WHITE, colors[i])));
      }
      fx.publication.publish("page", "20250102T000000Z-page1", 1, vectors, 1, fx.embeddingsEnd());
      fx.store.put(SimilarItemsFile.key("page", "page-blue"), new ObjectMapper().writeValueAsBytes(
          new SimilarItemsFile("page", "page-blue", "20250102T000000Z-page1", 1, 0,
              List.of(new SimilarItemsFile.Item("page-green", 0.5f)))), "application/json");
      SearchApiService service = fx.startService();
      String base = "http://127.0.0.1:" + service.httpPort();
      HttpClient http = HttpClient.newHttpClient();
      await().atMost(Duration.ofSeconds(60)).until(() -> http.send(HttpRequest.newBuilder(URI.create(base + "/readyz"))
          .build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200);

      Path photo = dir.resolve("shopper-photo.jpg");
      Files.write(photo, TestImages.jpeg(320, 240, Color.WHITE, Color.BLUE));

      try (HeadlessChromium chromium = HeadlessChromium.start()) {
        ChromeDriver browser = chromium.browser();
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
        browser.get(base + "/");
        assertEquals("Visual search", browser.getTitle());
        browser.findElement(By.id("api-key")).sendKeys(KEY);
        browser.findElement(By.id("file")).sendKeys(photo.toString());
        wait.until(d -> !d.findElements(By.cssSelector("#results li.result")).isEmpty());
        List<WebElement> results = browser.findElements(By.cssSelector("#results li.result"));
        assertEquals("page-blue", results.get(0).getAttribute("data-sku"));
        assertEquals("Page blue dress", results.get(0).findElement(By.className("title")).getText());
        assertTrue(results.get(0).findElement(By.className("price")).getText().startsWith("15.00"));
        assertTrue(browser.findElement(By.id("status")).getText().contains("20250102T000000Z-page1"));

        results.get(0).findElement(By.tagName("button")).click();
        wait.until(d -> d.findElement(By.id("results-title")).getText().startsWith("Similar to"));
        List<WebElement> similar = browser.findElements(By.cssSelector("#results li.result"));
        assertEquals(1, similar.size());
        assertEquals("page-green", similar.get(0).getAttribute("data-sku"));

        // A wrong key shows the API's message instead of results.
        browser.findElement(By.id("back")).click();
        WebElement key = browser.findElement(By.id("api-key"));
        key.clear();
        key.sendKeys("wrong-key-0123456789abcdef");
        browser.findElement(By.id("search")).click();
        wait.until(d -> d.findElement(By.id("status")).getAttribute("class").contains("error"));
        assertTrue(browser.findElement(By.id("status")).getText().contains("not valid"));
      }
    }
  }
}
