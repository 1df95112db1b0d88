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
  let crop = null;           // {x, y, w, h} in the photo's own pixels
  let lastPhotoResults = null;

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

  function choose(file) {
    if (!file) return;
    photo = file;
    crop = null;
    cropBox.hidden = true;
    preview.src = URL.createObjectURL(file);
    $('intro').hidden = true;
    $('preview-box').hidden = false;
    preview.onload = () => search();
  }
  $('file').addEventListener('change', (e) => choose(e.target.files[0]));
  $('camera').addEventListener('change', (e) => choose(e.target.files[0]));

  // Crop by dragging: screen coordinates are scaled back to the photo's pixels for the API.
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
    const left = Math.min(p.x, dragStart.x), top = Math.min(p.y, dragStart.y);
    Object.assign(cropBox.style, { left: left + 'px', top: top + 'px',
      width: Math.abs(p.x - dragStart.x) + 'px', height: Math.abs(p.y - dragStart.y) + 'px' });
    cropBox.hidden = false;
  });
  stage.addEventListener('pointerup', (e) => {
    if (!dragStart) return;
    const p = point(e);
    const r = preview.getBoundingClientRect();
    const sx = preview.naturalWidth / r.width, sy = preview.naturalHeight / r.height;
    const x = Math.round(Math.min(p.x, dragStart.x) * sx), y = Math.round(Math.min(p.y, dragStart.y) * sy);
    const w = Math.round(Math.abs(p.x - dragStart.x) * sx), h = Math.round(Math.abs(p.y - dragStart.y) * sy);
    dragStart = null;
    if (w < 8 || h < 8) { crop = null; cropBox.hidden = true; return; }
    crop = { x, y, w: Math.min(w, preview.naturalWidth - x), h: Math.min(h, preview.naturalHeight - y) };
    search();
  });
  $('clear-crop').addEventListener('click', () => { crop = null; cropBox.hidden = true; search(); });
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

  async function search() {
    if (!photo) return;
    const form = new FormData();
    form.append('image', photo);
    form.append('k', $('k').value || '12');
    if (crop) form.append('crop', [crop.x, crop.y, crop.w, crop.h].join(','));
    if ($('category').value.trim()) form.append('category', $('category').value.trim());
    if ($('max-price').value) form.append('max_price', $('max-price').value);
    const request = nextRequest();
    latestSearch = request.id;
    $('search').disabled = true;
    say('Searching…');
    try {
      const answer = await call('/api/v1/search',
        { method: 'POST', headers: headers(), body: form, signal: request.signal });
      if (!isLatest(request)) return;
      lastPhotoResults = answer;
      show(answer, 'Looks like your photo', false);
    } catch (e) {
      if (isLatest(request)) say(e.message, true);
    } finally {
      if (latestSearch === request.id) $('search').disabled = false;
    }
  }

  async function similar(sku, title) {
    const request = nextRequest();
    say('Loading similar items…');
    try {
      const answer = await call('/api/v1/products/' + encodeURIComponent(sku) + '/similar?k=' + ($('k').value || '12'),
        { headers: headers(), signal: request.signal });
      if (!isLatest(request)) return;
      show(answer, 'Similar to ' + (title || sku), true);
    } catch (e) {
      if (isLatest(request)) say(e.message, true);
    }
  }
  $('back').addEventListener('click', () => lastPhotoResults && show(lastPhotoResults, 'Looks like your photo', false));

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
      const more = document.createElement('button');
      more.type = 'button';
      more.textContent = 'Similar items';
      more.addEventListener('click', () => similar(r.sku, r.title));
      li.append(img, name, price, meta, more);
      list.append(li);
    }
    $('results-title').textContent = title;
    $('results-section').hidden = false;
    $('back').hidden = !isSimilar;
    say(answer.results.length + ' results · index ' + answer.index_version + ' · trace ' + answer.trace_id);
  }
})();
