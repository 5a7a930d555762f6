// The browser test of the map page (run by web/ui/e2e_test.go through
// `make test`): headless Debian chromium driven by playwright-core.
//
//   node web/ui/e2e/map.mjs BASE_URL OUT_DIR [TARGET_JSON]
//
// Opens BASE_URL/, waits for the tiles to render, checks that the canvas is
// not blank, clicks on a parcel and checks that its identifier is shown;
// zooms in until parcel labels are placed (glyphs work), switches a layer
// off and checks the permalink; with TARGET_JSON ({identifier, lon, lat,
// register, title_en, number, href}: a parcel with a register entry and a
// point inside it), clicks there on the English page and checks that the
// entry is listed under the register's title, linking to it. Screenshots
// go to OUT_DIR. Exits non-zero with a message on the first failure.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [base, outDir, targetArg] = process.argv.slice(2);
if (!base || !outDir) {
  console.error('usage: node map.mjs BASE_URL OUT_DIR');
  process.exit(2);
}
const executablePath = process.env.MUNIGIS_CHROMIUM || '/usr/bin/chromium';
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'munigis-chromium-'));
const problems = [];
let context;

function fail(msg) {
  throw new Error(msg);
}

// nonBackground counts the pixels of a PNG screenshot that differ from the
// map's background colour, decoding the PNG in the page itself.
async function nonBackground(page, png) {
  return page.evaluate(async (b64) => {
    const img = new Image();
    img.src = 'data:image/png;base64,' + b64;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width; c.height = img.height;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) {
      // background #f8f6f2
      if (Math.abs(d[i] - 0xf8) + Math.abs(d[i + 1] - 0xf6) + Math.abs(d[i + 2] - 0xf2) > 24) n++;
    }
    return { n, total: d.length / 4 };
  }, png.toString('base64'));
}

async function idle(page, what) {
  await page.waitForFunction(() => {
    const m = window.munigisMap;
    return m && m.isStyleLoaded() && m.areTilesLoaded() && !m.isMoving();
  }, null, { timeout: 30000 }).catch(() => fail(`the map did not finish loading ${what} in 30 s`));
  await page.waitForTimeout(300); // let the last frame paint
}

try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width: 1024, height: 768 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
      '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  });
  const page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console error: ' + m.text()); });
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.url()}`); });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));

  const resp = await page.goto(base + '/', { waitUntil: 'load' });
  if (!resp || resp.status() !== 200) fail(`GET / answered ${resp && resp.status()}`);
  if (!(await page.textContent('#nav')).includes('Вход')) fail('the page has no "Вход" link');
  await idle(page, 'the first view');

  const view = await page.evaluate(() => {
    const m = window.munigisMap;
    const ids = m.getStyle().layers.filter((l) => l.metadata && l.metadata['munigis:layer'] === 'cadastre_parcels').map((l) => l.id);
    return { zoom: m.getZoom(), ids, parcels: m.queryRenderedFeatures({ layers: ids.filter((id) => id.endsWith('-fill')) }).length,
      boxes: document.querySelectorAll('#layers input[type=checkbox]').length };
  });
  if (view.parcels === 0) fail(`no parcel rendered at zoom ${view.zoom.toFixed(1)} (style layers ${view.ids})`);
  if (view.boxes < 5) fail(`the layer list has ${view.boxes} checkboxes`);

  const shot1 = await page.screenshot({ path: path.join(outDir, 'map-overview.png') });
  const px = await nonBackground(page, shot1);
  if (px.n < px.total * 0.05) fail(`the map looks blank: ${px.n} of ${px.total} pixels differ from the background`);

  // Zoom to the parcel labels' zoom, on the middle of the cadastre.
  await page.evaluate(() => window.munigisMap.jumpTo({ zoom: 17 }));
  await idle(page, 'zoom 17');

  // A parcel whose centroid pixel lies inside it and outside every building
  // (a click on a building shows the building).
  const target = await page.evaluate(() => {
    const m = window.munigisMap;
    const fs = m.queryRenderedFeatures({ layers: ['cadastre_parcels-fill'] });
    const above = m.getStyle().layers.filter((l) => l.metadata &&
      ['cadastre_buildings', 'cadastre_units'].includes(l.metadata['munigis:layer']) && l.type !== 'symbol').map((l) => l.id);
    const w = m.getCanvas().clientWidth, h = m.getCanvas().clientHeight;
    for (const f of fs) {
      const poly = f.geometry.type === 'Polygon' ? f.geometry.coordinates : f.geometry.coordinates[0];
      const ring = poly[0];
      let x = 0, y = 0;
      for (const [lon, lat] of ring.slice(0, -1)) { x += lon; y += lat; }
      const p = m.project([x / (ring.length - 1), y / (ring.length - 1)]);
      if (p.x < 40 || p.y < 40 || p.x > w - 40 || p.y > h - 40) continue;
      if (p.x < 320 && p.y < 420) continue; // under the layer panel
      const hit = m.queryRenderedFeatures(p, { layers: ['cadastre_parcels-fill'] });
      if (above.length && m.queryRenderedFeatures(p, { layers: above }).length) continue;
      if (hit.length && hit[0].properties.identifier === f.properties.identifier) {
        return { x: p.x, y: p.y, identifier: f.properties.identifier, labels: m.queryRenderedFeatures({ layers: ['cadastre_parcels-label'] }).length };
      }
    }
    return null;
  });
  if (!target) fail('found no parcel to click on at zoom 17');
  if (target.labels === 0) fail('no parcel identifier label was placed at zoom 17 (glyphs?)');
  await page.mouse.click(target.x, target.y);
  await page.waitForFunction((id) => document.querySelector('#object-identifier')?.textContent === id,
    target.identifier, { timeout: 5000 }).catch(async () => fail(`clicking the parcel ${target.identifier} did not show its identifier: ` +
    JSON.stringify(await page.evaluate((t) => ({ shown: document.querySelector('#info')?.textContent,
      at: window.munigisMap.queryRenderedFeatures([t.x, t.y]).map((f) => f.layer.id + ':' + f.properties.identifier) }), target))));
  const popup = await page.textContent('.maplibregl-popup-content');
  if (!popup.includes(target.identifier)) fail(`the popup says ${JSON.stringify(popup)}, not ${target.identifier}`);
  const href = await page.getAttribute('#info a', 'href');
  if (href !== '/api/cadastre/' + encodeURIComponent(target.identifier)) fail(`the details link is ${href}`);
  // The register entries on it are fetched and listed (perhaps none).
  await page.waitForSelector('#related[data-state="done"]', { timeout: 10000 })
    .catch(() => fail(`the register entries of ${target.identifier} were not listed in 10 s`));
  await page.screenshot({ path: path.join(outDir, 'map-parcel.png') });


  // Switch the buildings off: the permalink keeps the position and layers.
  await page.click('#layers input[data-layer="cadastre_buildings"]');
  await page.waitForTimeout(200);
  const hash = await page.evaluate(() => location.hash);
  if (!/^#17\.00\/[0-9.]+\/[0-9.]+\/layers=/.test(hash) || hash.includes('cadastre_buildings') || !hash.includes('cadastre_parcels')) {
    fail(`the permalink is ${hash}`);
  }
  // ... and reopening it restores them.
  await page.goto(base + '/?lang=en' + hash);
  await idle(page, 'the permalink');
  const again = await page.evaluate(() => ({
    zoom: window.munigisMap.getZoom(),
    buildings: window.munigisMap.getLayoutProperty('cadastre_buildings-fill', 'visibility'),
    signIn: document.querySelector('#signin').textContent,
  }));
  if (Math.abs(again.zoom - 17) > 0.01 || again.buildings !== 'none' || again.signIn !== 'Sign in') {
    fail(`the permalink restored ${JSON.stringify(again)}`);
  }
  if (targetArg) {
    // A parcel known to carry an act of municipal property: click inside
    // it; the act is listed under the register's title (English: the page
    // is in English now), linked.
    const want = JSON.parse(targetArg);
    await page.evaluate((w) => window.munigisMap.jumpTo({ center: [w.lon, w.lat], zoom: 18 }), want);
    await idle(page, 'the parcel with a register entry');
    const pt = await page.evaluate((w) => {
      const m = window.munigisMap;
      const p = m.project([w.lon, w.lat]);
      const hit = m.queryRenderedFeatures(p, { layers: ['cadastre_parcels-fill'] });
      return { x: p.x, y: p.y, rendered: hit.length ? hit[0].properties.identifier : null };
    }, want);
    if (pt.rendered !== want.identifier) fail(`at the point of ${want.identifier} the map has parcel ${pt.rendered}`);
    // The first click's popup could lie over the point; the listing
    // state is cleared so that only the new click's answer counts.
    if (await page.$('.maplibregl-popup-close-button')) await page.click('.maplibregl-popup-close-button');
    await page.evaluate(() => document.querySelector('#related')?.removeAttribute('data-state'));
    await page.mouse.click(pt.x, pt.y);
    await page.waitForSelector('#related[data-state="done"]', { timeout: 10000 })
      .catch(() => fail(`the register entries of ${want.identifier} were not listed in 10 s`));
    const shown = await page.evaluate((reg) => {
      const sec = document.querySelector(`#related section[data-register="${reg}"]`);
      return {
        ident: document.querySelector('#object-identifier')?.textContent,
        title: sec?.querySelector('h3')?.textContent,
        links: sec ? [...sec.querySelectorAll('a')].map((a) => ({ text: a.textContent, href: a.getAttribute('href') })) : [],
      };
    }, want.register);
    if (shown.ident !== want.identifier) fail(`clicking ${want.identifier} shows ${shown.ident}`);
    if (shown.title !== want.title_en) fail(`the register's title is ${JSON.stringify(shown.title)}, want ${JSON.stringify(want.title_en)}`);
    if (!shown.links.some((l) => l.text === want.number && l.href === want.href)) {
      fail(`the entries listed are ${JSON.stringify(shown.links)}, without ${want.number} → ${want.href}`);
    }
    const entry = await page.request.get(base + want.href);
    if (entry.status() !== 200 || (await entry.json()).number !== want.number) fail(`GET ${want.href} answered ${entry.status()}`);
    await page.screenshot({ path: path.join(outDir, 'map-related.png') });
  }
  const bad = problems.filter((p) => !p.includes('favicon'));
  if (bad.length) fail('the page reported problems:\n  ' + bad.join('\n  '));
  console.log(JSON.stringify({ ok: true, zoom: view.zoom, parcels: view.parcels, painted: px.n / px.total, clicked: target.identifier, labels: target.labels,
    related: targetArg ? JSON.parse(targetArg).identifier : null }));
} catch (e) {
  console.error('map.mjs: ' + e.message);
  if (problems.length) console.error('page problems:\n  ' + problems.join('\n  '));
  process.exitCode = 1;
} finally {
  if (context) await context.close().catch(() => {});
  fs.rmSync(profile, { recursive: true, force: true });
}
