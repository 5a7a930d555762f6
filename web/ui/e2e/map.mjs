// The browser test of the map page (run by web/ui/e2e_test.go through
// `make test`): headless Debian chromium driven by playwright-core.
//
//   node web/ui/e2e/map.mjs BASE_URL OUT_DIR
//
// Opens BASE_URL/, waits for the tiles to render, checks that the canvas is
// not blank, clicks on a parcel and checks that its identifier is shown,
// zooms in until parcel labels are placed (glyphs work), switches a layer
// off and checks the permalink. Screenshots go to OUT_DIR. Exits non-zero
// with a message on the first failure.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [base, outDir] = process.argv.slice(2);
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

  // A parcel whose centroid pixel lies inside it.
  const target = await page.evaluate(() => {
    const m = window.munigisMap;
    const fs = m.queryRenderedFeatures({ layers: ['cadastre_parcels-fill'] });
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
      if (hit.length && hit[0].properties.identifier === f.properties.identifier) {
        return { x: p.x, y: p.y, identifier: f.properties.identifier, labels: m.queryRenderedFeatures({ layers: ['cadastre_parcels-label'] }).length };
      }
    }
    return null;
  });
  if (!target) fail('found no parcel to click on at zoom 17');
  if (target.labels === 0) fail('no parcel identifier label was placed at zoom 17 (glyphs?)');
  await page.mouse.click(target.x, target.y);
  await page.waitForFunction((id) => document.querySelector('#parcel-identifier')?.textContent === id,
    target.identifier, { timeout: 5000 }).catch(() => fail(`clicking the parcel ${target.identifier} did not show its identifier`));
  const popup = await page.textContent('.maplibregl-popup-content');
  if (!popup.includes(target.identifier)) fail(`the popup says ${JSON.stringify(popup)}, not ${target.identifier}`);
  const href = await page.getAttribute('#info a', 'href');
  if (href !== '/api/cadastre/' + encodeURIComponent(target.identifier)) fail(`the details link is ${href}`);
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
  const bad = problems.filter((p) => !p.includes('favicon'));
  if (bad.length) fail('the page reported problems:\n  ' + bad.join('\n  '));
  console.log(JSON.stringify({ ok: true, zoom: view.zoom, parcels: view.parcels, painted: px.n / px.total, clicked: target.identifier, labels: target.labels }));
} catch (e) {
  console.error('map.mjs: ' + e.message);
  if (problems.length) console.error('page problems:\n  ' + problems.join('\n  '));
  process.exitCode = 1;
} finally {
  if (context) await context.close().catch(() => {});
  fs.rmSync(profile, { recursive: true, force: true });
}
