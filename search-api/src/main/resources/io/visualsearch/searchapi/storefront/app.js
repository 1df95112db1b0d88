// Storefront demo page: photo (upload or camera) -> optional crop -> POST /api/v1/search; each
// result offers "Similar items" (GET /api/v1/products/{sku}/similar). No build step, no framework.
(function () {
  'use strict';

  const $ = (id) => document.getElementById(id);
  const keyInput = $('api-key');
  const preview = $('preview');
  const stage = $('stage');
  const cropBox = $('crop');
  const status = $('status');
  let photo = null;          // the File being searched
  let upload = null;         // a promise of what is sent for it: {blob, name, scale, width, height}
  let crop = null;           // {x, y, w, h} in the photo's own (upright) pixels
  let lastPhotoResults = null;
  let photoUrl = null;       // the blob: address the preview shows

  // A link may carry the key in its fragment (the demo prints one): a fragment is never sent to the
  // server, and it leaves the address bar and the history at once, kept for this tab only.
  const linked = /^#key=([^&]+)$/.exec(location.hash);
  if (linked) {
    sessionStorage.setItem('vs-api-key', decodeURIComponent(linked[1]).trim());
    history.replaceState(null, '', location.pathname + location.search);
  }
  keyInput.value = sessionStorage.getItem('vs-api-key') || '';
  keyInput.addEventListener('change', () => sessionStorage.setItem('vs-api-key', keyInput.value.trim()));
  $('key-form').addEventListener('submit', (e) => e.preventDefault());

  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? 'error' : '';
  }

  // The previous photo's search is retired and its results go at once: its answer, landing before
  // this photo has loaded and searched, would be shown under this photo. Its blob: address is
  // released (the browser holds the file for it until the tab closes); this one stays, since the
  // upload is drawn from the preview again after a failure.
  function choose(file) {
    if (!file) return;
    photo = file;
    upload = null;
    crop = null;
    cropBox.hidden = true;
    nextRequest();
    clearResults();
    preview.onload = () => search();
    preview.onerror = () => unreadable();
    if (photoUrl) URL.revokeObjectURL(photoUrl);
    photoUrl = URL.createObjectURL(file);
    preview.src = photoUrl;
    $('intro').hidden = true;
    $('preview-box').hidden = false;
  }

  function clearResults() {
    lastPhotoResults = null;
    $('results').replaceChildren();
    $('results-section').hidden = true;
  }

  // A file the browser cannot decode (HEIC on most browsers, a PDF, a broken download) fires no
  // load event: say so, instead of a page that does nothing, and drop the previous photo's results.
  function unreadable() {
    photo = null;
    upload = null;
    nextRequest();
    clearResults();
    $('preview-box').hidden = true;
    $('search').disabled = false;
    say('This file is not an image the browser can show (JPEG, PNG, WebP or GIF).', true);
  }

  // The server reads a photo at IMAGE_MAX_SIDE (512 px) and refuses more than
  // SEARCH_MAX_IMAGE_PIXELS (40 MP) or SEARCH_MAX_UPLOAD_BYTES (10 MiB): a phone's original
  // (48 MP, 10+ MB) is refused or cut off mid-upload. A large photo is drawn at MAX_UPLOAD_SIDE,
  // twice what the server keeps so that a crop still has detail, and sent as JPEG. Drawing applies
  // the EXIF orientation, as the server would have, so the crop's upright pixels stay upright.
  const MAX_UPLOAD_SIDE = 1024;
  const SENT_AS_IS = ['image/jpeg', 'image/png', 'image/webp'];
  function prepareUpload() {
    const w = preview.naturalWidth, h = preview.naturalHeight;
    const scale = Math.min(1, MAX_UPLOAD_SIDE / Math.max(w, h));
    // Small photos of a type the API reads go as they are; others (GIF, HEIC on Safari) are redrawn.
    if (scale === 1 && SENT_AS_IS.includes(photo.type)) {
      return Promise.resolve({ blob: photo, name: photo.name, scale: 1, width: w, height: h });
    }
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(w * scale));
    canvas.height = Math.max(1, Math.round(h * scale));
    const context = canvas.getContext('2d');
    context.fillStyle = '#fff';   // transparency over white, as the server flattens it
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.drawImage(preview, 0, 0, canvas.width, canvas.height);
    return new Promise((resolve, reject) => canvas.toBlob((blob) => blob
      ? resolve({ blob, name: 'photo.jpg', scale: canvas.width / w, width: canvas.width, height: canvas.height })
      : reject(new Error('The photo could not be prepared for upload; try a smaller one.')), 'image/jpeg', 0.9));
  }

  // The crop is chosen in the photo's own pixels; the upload may be the photo scaled down. Its
  // edges are scaled, not its size, so rounding never takes it past the upload's own edges.
  function scaledCrop(box, sent) {
    if (sent.scale === 1) return box;
    const edge = (v, size) => Math.min(Math.round(v * sent.scale), size);
    const x = Math.min(edge(box.x, sent.width), sent.width - 1), y = Math.min(edge(box.y, sent.height), sent.height - 1);
    return { x, y, w: Math.max(1, edge(box.x + box.w, sent.width) - x), h: Math.max(1, edge(box.y + box.h, sent.height) - y) };
  }
  $('file').addEventListener('change', (e) => choose(e.target.files[0]));
  $('camera').addEventListener('change', (e) => choose(e.target.files[0]));

  // Crop by dragging: screen coordinates are scaled back to the photo's pixels for the API. The box
  // is placed in percent of the photo, so it stays on the same part when the page reflows (a
  // resized window, a rotated phone).
  // An <img> is natively draggable: a desktop browser would start dragging the picture itself and
  // cancel our pointer (pointercancel, no pointerup), so native drags are refused, and a drag the
  // browser cancels anyway leaves the crop as it was instead of a half-drawn box stuck to the mouse.
  let dragStart = null;
  let boxBeforeDrag = null;
  function point(e) {
    const r = preview.getBoundingClientRect();
    return { x: Math.min(Math.max(e.clientX - r.left, 0), r.width), y: Math.min(Math.max(e.clientY - r.top, 0), r.height) };
  }
  stage.addEventListener('dragstart', (e) => e.preventDefault());
  stage.addEventListener('pointerdown', (e) => {
    e.preventDefault();
    dragStart = point(e);
    boxBeforeDrag = { hidden: cropBox.hidden, style: cropBox.style.cssText };
    stage.setPointerCapture(e.pointerId);
  });
  function cancelDrag() {
    if (!dragStart) return;
    dragStart = null;
    cropBox.hidden = boxBeforeDrag.hidden;
    cropBox.style.cssText = boxBeforeDrag.style;
  }
  stage.addEventListener('pointercancel', cancelDrag);
  stage.addEventListener('lostpointercapture', cancelDrag);
  stage.addEventListener('pointermove', (e) => {
    if (!dragStart) return;
    const p = point(e);
    const r = preview.getBoundingClientRect();
    const percent = (v, size) => (v / size * 100) + '%';
    Object.assign(cropBox.style, {
      left: percent(Math.min(p.x, dragStart.x), r.width), top: percent(Math.min(p.y, dragStart.y), r.height),
      width: percent(Math.abs(p.x - dragStart.x), r.width),
      height: percent(Math.abs(p.y - dragStart.y), r.height) });
    cropBox.hidden = false;
  });
  stage.addEventListener('pointerup', (e) => {
    if (!dragStart) return;
    const p = point(e);
    const start = dragStart;
    dragStart = null;
    // A tap (no real drag) means the whole photo again, as the "Whole photo" button does. It is told
    // on screen, before scaling: a finger's 2 px slip on a 4000 px photo shown 560 px wide is 14
    // of the photo's pixels, which would search a speck of it.
    if (Math.abs(p.x - start.x) < 8 || Math.abs(p.y - start.y) < 8) {
      if (crop) wholePhoto(); else cropBox.hidden = true;
      return;
    }
    const r = preview.getBoundingClientRect();
    const sx = preview.naturalWidth / r.width, sy = preview.naturalHeight / r.height;
    const x = Math.round(Math.min(p.x, start.x) * sx), y = Math.round(Math.min(p.y, start.y) * sy);
    const w = Math.round(Math.abs(p.x - start.x) * sx), h = Math.round(Math.abs(p.y - start.y) * sy);
    crop = { x, y, w: Math.min(w, preview.naturalWidth - x), h: Math.min(h, preview.naturalHeight - y) };
    search();
  });
  function wholePhoto() {
    crop = null;
    cropBox.hidden = true;
    search();
  }
  $('clear-crop').addEventListener('click', wholePhoto);
  $('search').addEventListener('click', () => search());

  function headers() {
    const key = keyInput.value.trim();
    if (!key) throw new Error('Enter the catalog API key first.');
    return { 'Authorization': 'Bearer ' + key };
  }

  // Only the latest request's answer is shown: an earlier search or "similar items" that answers
  // late must not replace what the shopper asked for since. The earlier request is also aborted.
  let latestRequest = 0;
  let latestSearch = 0;      // the search the Search button waits for
  let inFlight = null;
  function nextRequest() {
    if (inFlight) inFlight.abort();
    inFlight = new AbortController();
    return { id: ++latestRequest, signal: inFlight.signal };
  }
  function isLatest(request) {
    return request.id === latestRequest;
  }

  async function call(url, options) {
    const response = await fetch(url, options);
    let body = null;
    try { body = await response.json(); } catch (ignored) { /* not JSON */ }
    if (!response.ok) {
      const message = body && body.message ? body.message : 'HTTP ' + response.status;
      throw new Error(message);
    }
    return body;
  }

  // The search's fields as they are when it is asked for; the image is added once prepared.
  function searchFields() {
    return { k: $('k').value || '12', crop, category: $('category').value.trim(), maxPrice: $('max-price').value,
      inStock: $('in-stock').checked };
  }

  function searchForm(fields, sent) {
    const form = new FormData();
    form.append('image', sent.blob, sent.name);
    form.append('k', fields.k);
    if (fields.crop) {
      const box = scaledCrop(fields.crop, sent);
      form.append('crop', [box.x, box.y, box.w, box.h].join(','));
    }
    if (fields.category) form.append('category', fields.category);
    if (fields.maxPrice) form.append('max_price', fields.maxPrice);
    if (fields.inStock) form.append('availability', 'in_stock');
    return form;
  }

  async function search() {
    // Not before the photo has loaded: its upload is drawn from the preview (choose() searches then).
    if (!photo || !preview.complete || !preview.naturalWidth) return;
    const fields = searchFields();
    const request = nextRequest();
    latestSearch = request.id;
    $('search').disabled = true;
    say('Searching…');
    try {
      // Kept for the photo's next searches (a crop, a filter); a failure is not kept, so they try again.
      if (!upload) upload = prepareUpload().catch((e) => { upload = null; throw e; });
      const sent = await upload;
      if (!isLatest(request)) return;
      const answer = await call('/api/v1/search',
        { method: 'POST', headers: headers(), body: searchForm(fields, sent), signal: request.signal });
      if (!isLatest(request)) return;
      lastPhotoResults = answer;
      show(answer, 'Looks like your photo', false);
    } catch (e) {
      // The results on screen were of an earlier search (another photo, crop or filter): under the
      // error they would pass for this one's.
      if (isLatest(request)) {
        clearResults();
        say(e.message, true);
      }
    } finally {
      if (latestSearch === request.id) $('search').disabled = false;
    }
  }

  async function similar(sku, title) {
    const request = nextRequest();
    say('Loading similar items…');
    try {
      const query = '?k=' + encodeURIComponent($('k').value || '12')
        + ($('in-stock').checked ? '&availability=in_stock' : '');
      const answer = await call('/api/v1/products/' + encodeURIComponent(sku) + '/similar' + query,
        { headers: headers(), signal: request.signal });
      if (!isLatest(request)) return;
      show(answer, 'Similar to ' + (title || sku), true);
    } catch (e) {
      if (isLatest(request)) say(e.message, true);
    }
  }
  // Back also retires the "similar items" still on its way, which would otherwise replace the
  // photo's results the shopper went back to.
  function back() {
    if (!lastPhotoResults) return;
    nextRequest();
    show(lastPhotoResults, 'Looks like your photo', false);
  }
  $('back').addEventListener('click', back);

  // Links and pictures come from the retailer's feed: only web addresses become an href or src
  // (never javascript: or data:), whatever the catalog holds.
  function webUrl(text) {
    if (!text) return null;
    try {
      const url = new URL(text);
      return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
    } catch (ignored) {
      return null;
    }
  }

  const AVAILABILITY_LABELS = { out_of_stock: 'Out of stock', preorder: 'Pre-order', backorder: 'Backorder' };

  function show(answer, title, isSimilar) {
    const list = $('results');
    list.replaceChildren();
    for (const r of answer.results) {
      const li = document.createElement('li');
      li.className = 'result';
      li.dataset.sku = r.sku;
      const img = document.createElement('img');
      img.alt = r.title || r.sku;
      img.loading = 'lazy';
      const imageUrl = webUrl(r.image_link);
      if (imageUrl) img.src = imageUrl;
      const link = webUrl(r.link);
      const name = document.createElement(link ? 'a' : 'span');
      name.className = 'title';
      name.textContent = r.title || r.sku;
      if (link) { name.href = link; name.target = '_blank'; name.rel = 'noopener'; }
      const price = document.createElement('span');
      price.className = 'price';
      price.textContent = r.price || '';
      const meta = document.createElement('span');
      meta.className = 'meta';
      meta.textContent = (r.category ? r.category + ' · ' : '') + 'score ' + r.score.toFixed(3);
      // What cannot be bought now says so; in stock (or not said) needs no label.
      const unavailable = AVAILABILITY_LABELS[r.availability];
      const badges = [];
      if (unavailable) {
        const badge = document.createElement('span');
        badge.className = 'availability';
        badge.textContent = unavailable;
        badges.push(badge);
      }
      const more = document.createElement('button');
      more.type = 'button';
      more.textContent = 'Similar items';
      // Every card's button says the same: a screen reader's list of buttons names the product.
      more.setAttribute('aria-label', 'Similar items to ' + (r.title || r.sku));
      more.addEventListener('click', () => similar(r.sku, r.title));
      li.append(img, name, price, ...badges, meta, more);
      list.append(li);
    }
    $('results-title').textContent = title;
    $('results-section').hidden = false;
    $('back').hidden = !isSimilar;
    say(answer.results.length + ' results · index ' + answer.index_version + ' · trace ' + answer.trace_id);
  }
})();
