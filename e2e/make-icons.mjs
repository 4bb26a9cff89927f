// Draws the web app's PNG icons (web/icons/) from the shapes of web/icon.svg: a face (a ring and shoulders) in
// the accent colour on the dark background. Run once after changing the design, and commit the files:
//   node e2e/make-icons.mjs
// icon-192.png and icon-512.png ("any"): the rounded square of icon.svg on transparency.
// icon-maskable-512.png ("maskable"): full-bleed background, the face scaled into the central 80% safe zone
// (a launcher may crop the icon to any shape inside that circle).

import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Canvas, cubic, rgb, ring, roundedRect, stroke } from "./lib/png.mjs";

const OUT = join(dirname(fileURLToPath(import.meta.url)), "..", "web", "icons");
const BG = rgb("#14161a");
const ACCENT = rgb("#f5c518");

/**
 * The icon at `size` px. Shapes are in icon.svg's 512-unit space, scaled by `scale` about its centre.
 * @param {number} size @param {{maskable: boolean}} options
 */
function icon(size, { maskable }) {
  const canvas = new Canvas(size, size, 4);
  canvas.clear([0, 0, 0, 0]);
  const unit = size / 512;
  const scale = maskable ? 0.8 : 1;
  // svg units → pixels
  const px = (v) => (256 + (v - 256) * scale) * unit;
  const len = (v) => v * scale * unit;
  if (maskable) canvas.clear([...BG, 255]);
  else canvas.fill(roundedRect(0, 0, size, size, 96 * unit), BG);
  // <circle cx="256" cy="230" r="110" stroke-width="36"/>
  canvas.fill(ring(px(256), px(230), len(110), len(36)), ACCENT);
  // <path d="M176 420c20-50 60-76 80-76s60 26 80 76" stroke-width="36" stroke-linecap="round"/>
  const left = cubic([176, 420], [196, 370], [236, 344], [256, 344]);
  const right = cubic([256, 344], [276, 344], [316, 370], [336, 420]);
  const points = [...left, ...right.slice(1)].map(([x, y]) => /** @type {[number, number]} */ ([px(x), px(y)]));
  canvas.fill(stroke(points, len(36)), ACCENT, [px(140), px(320), px(372), px(450)]);
  return canvas.png();
}

await mkdir(OUT, { recursive: true });
const files = {
  "icon-192.png": icon(192, { maskable: false }),
  "icon-512.png": icon(512, { maskable: false }),
  "icon-maskable-512.png": icon(512, { maskable: true }),
};
for (const [name, bytes] of Object.entries(files)) {
  await writeFile(join(OUT, name), bytes);
  console.log(`web/icons/${name}: ${bytes.length} bytes`);
}
