// Builds the browser assets that the munigis binary embeds (go:embed in
// web/ui/ui.go), into dist/:
//   - MapLibre GL JS and its CSS, copied from node_modules (npm ci);
//   - the SDF glyphs MapLibre needs for text labels, generated here from
//     Debian's DejaVu Sans (fonts-dejavu-core) as "glyph PBFs", the format
//     MapLibre loads from a style's "glyphs" URL: 24 px, 3 px buffer.
// Run through `make ui`; it needs no network once node_modules is present.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import opentype from 'opentype.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, 'dist');
fs.rmSync(dist, { recursive: true, force: true });
fs.mkdirSync(path.join(dist, 'glyphs'), { recursive: true });

const ml = path.join(here, 'node_modules', 'maplibre-gl', 'dist');
for (const f of ['maplibre-gl.js', 'maplibre-gl.css', 'LICENSE.txt']) {
  fs.copyFileSync(path.join(ml, f), path.join(dist, f === 'LICENSE.txt' ? 'maplibre-gl.LICENSE.txt' : f));
}

// --- glyphs ---------------------------------------------------------------
const FONT = process.env.MUNIGIS_GLYPH_FONT || '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
const STACK = 'DejaVu Sans';
const SIZE = 24, BUFFER = 3, RADIUS = 8, CUTOFF = 0.25;
// Latin, Latin-1, Latin Extended, Greek, Cyrillic, general punctuation,
// currency and letterlike symbols (№): all that Bulgarian data uses.
const RANGES = [0, 256, 512, 768, 1024, 1280, 8192, 8448];

const font = opentype.loadSync(FONT);
const scale = SIZE / font.unitsPerEm;

function segmentsOf(p) {
  const segs = [];
  let cx = 0, cy = 0, sx = 0, sy = 0;
  const line = (x, y) => { segs.push([cx, cy, x, y]); cx = x; cy = y; };
  for (const c of p.commands) {
    if (c.type === 'M') { cx = sx = c.x; cy = sy = c.y; }
    else if (c.type === 'L') line(c.x, c.y);
    else if (c.type === 'Q') {
      const x0 = cx, y0 = cy;
      for (let t = 1; t <= 8; t++) {
        const s = t / 8, u = 1 - s;
        line(u * u * x0 + 2 * u * s * c.x1 + s * s * c.x, u * u * y0 + 2 * u * s * c.y1 + s * s * c.y);
      }
    } else if (c.type === 'C') {
      const x0 = cx, y0 = cy;
      for (let t = 1; t <= 10; t++) {
        const s = t / 10, u = 1 - s;
        line(u * u * u * x0 + 3 * u * u * s * c.x1 + 3 * u * s * s * c.x2 + s * s * s * c.x,
          u * u * u * y0 + 3 * u * u * s * c.y1 + 3 * u * s * s * c.y2 + s * s * s * c.y);
      }
    } else if (c.type === 'Z') { if (cx !== sx || cy !== sy) line(sx, sy); }
  }
  return segs;
}

function sdfGlyph(code) {
  const g = font.charToGlyph(String.fromCodePoint(code));
  if (!g || (g.index === 0 && code !== 0)) return null;
  const advance = Math.round(g.advanceWidth * scale);
  const p = g.getPath(0, 0, SIZE); // y grows downwards, baseline at 0
  const segs = segmentsOf(p);
  if (segs.length === 0) return { id: code, width: 0, height: 0, left: 0, top: -26, advance, bitmap: Buffer.alloc(0) };
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const [ax, ay, bx, by] of segs) {
    x0 = Math.min(x0, ax, bx); x1 = Math.max(x1, ax, bx);
    y0 = Math.min(y0, ay, by); y1 = Math.max(y1, ay, by);
  }
  const left = Math.floor(x0), topY = Math.floor(y0);
  const width = Math.ceil(x1) - left, height = Math.ceil(y1) - topY;
  const W = width + 2 * BUFFER, H = height + 2 * BUFFER;
  const bitmap = Buffer.alloc(W * H);
  for (let j = 0; j < H; j++) {
    const py = topY - BUFFER + j + 0.5;
    for (let i = 0; i < W; i++) {
      const px = left - BUFFER + i + 0.5;
      let d2 = Infinity, winding = 0;
      for (const [ax, ay, bx, by] of segs) {
        const dx = bx - ax, dy = by - ay;
        const l2 = dx * dx + dy * dy;
        let t = l2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / l2 : 0;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const ex = ax + t * dx - px, ey = ay + t * dy - py;
        const e2 = ex * ex + ey * ey;
        if (e2 < d2) d2 = e2;
        if (ay <= py) { if (by > py && dx * (py - ay) - (px - ax) * dy > 0) winding++; }
        else if (by <= py && dx * (py - ay) - (px - ax) * dy < 0) winding--;
      }
      const d = Math.sqrt(d2) * (winding !== 0 ? -1 : 1);
      bitmap[j * W + i] = Math.max(0, Math.min(255, Math.round(255 - 255 * (d / RADIUS + CUTOFF))));
    }
  }
  // top: MapLibre places a glyph's top relative to a 24 px em whose
  // baseline sits 26 px below the line top (as its local tiny-sdf glyphs).
  return { id: code, width, height, left, top: -topY - 26, advance, bitmap };
}

// --- a minimal protobuf writer for the glyphs.proto messages ---------------
function varint(n) {
  const out = [];
  n = BigInt(n);
  do { let b = Number(n & 0x7fn); n >>= 7n; if (n > 0n) b |= 0x80; out.push(b); } while (n > 0n);
  return Buffer.from(out);
}
const zigzag = (n) => (n << 1) ^ (n >> 31);
const key = (field, wire) => varint((field << 3) | wire);
const vfield = (f, v) => Buffer.concat([key(f, 0), varint(v >>> 0)]);
const bfield = (f, b) => Buffer.concat([key(f, 2), varint(b.length), b]);

function encodeGlyph(g) {
  const parts = [vfield(1, g.id)];
  if (g.bitmap.length) parts.push(bfield(2, g.bitmap));
  parts.push(vfield(3, g.width), vfield(4, g.height), vfield(5, zigzag(g.left)), vfield(6, zigzag(g.top)), vfield(7, g.advance));
  return Buffer.concat(parts);
}

const stackDir = path.join(dist, 'glyphs', STACK);
fs.mkdirSync(stackDir, { recursive: true });
let count = 0;
for (const start of RANGES) {
  const end = start + 255;
  const parts = [bfield(1, Buffer.from(STACK)), bfield(2, Buffer.from(`${start}-${end}`))];
  for (let c = start; c <= end; c++) {
    const g = sdfGlyph(c);
    if (g) { parts.push(bfield(3, encodeGlyph(g))); count++; }
  }
  fs.writeFileSync(path.join(stackDir, `${start}-${end}.pbf`), bfield(1, Buffer.concat(parts)));
}
console.log(`web/ui/dist: maplibre-gl ${JSON.parse(fs.readFileSync(path.join(here, 'node_modules', 'maplibre-gl', 'package.json'))).version}, ${count} glyphs of ${STACK}`);
