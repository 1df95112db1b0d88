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
    $('preview-box').hidden = false;
    preview.onload = () => search();
  }
  $('file').addEventListener('change', (e) => choose(e.target.files[0]));
  $('camera').addEventListener('change', (e) => choose(e.target.files[0]));

  // Crop by dragging: screen coordinates are scaled back to the photo's pixels for the API.
  let dragStart = null;
  function point(e) {
    const r = preview.getBoundingClientRect();
    return { x: Math.min(Math.max(e.clientX - r.left, 0), r.width), y: Math.min(Math.max(e.clientY - r.top, 0), r.height) };
  }
  stage.addEventListener('pointerdown', (e) => {
    dragStart = point(e);
    stage.setPointerCapture(e.pointerId);
  });
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
    $('search').disabled = true;
    say('Searching…');
    try {
      const answer = await call('/api/v1/search', { method: 'POST', headers: headers(), body: form });
      lastPhotoResults = answer;
      show(answer, 'Looks like your photo', false);
    } catch (e) {
      say(e.message, true);
    } finally {
      $('search').disabled = false;
    }
  }

  async function similar(sku, title) {
    say('Loading similar items…');
    try {
      const answer = await call('/api/v1/products/' + encodeURIComponent(sku) + '/similar?k=' + ($('k').value || '12'),
        { headers: headers() });
      show(answer, 'Similar to ' + (title || sku), true);
    } catch (e) {
      say(e.message, true);
    }
  }
  $('back').addEventListener('click', () => lastPhotoResults && show(lastPhotoResults, 'Looks like your photo', false));

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
      if (r.image_link) img.src = r.image_link;
      const name = document.createElement(r.link ? 'a' : 'span');
      name.className = 'title';
      name.textContent = r.title || r.sku;
      if (r.link) { name.href = r.link; name.target = '_blank'; name.rel = 'noopener'; }
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
