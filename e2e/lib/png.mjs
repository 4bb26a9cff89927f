// A small PNG encoder and the few shapes the test images and the app's icons are drawn with. No dependency:
// zlib from node, a CRC-32 table, 8-bit RGB or RGBA, filter "none" on every row (flat shapes compress well).

import { deflateSync } from "node:zlib";

const CRC_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** @param {Uint8Array} bytes */
function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** @param {string} type @param {Uint8Array} data */
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, "latin1");
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * A PNG file of `pixels` (rows top to bottom, `channels` bytes a pixel: 3 RGB, 4 RGBA).
 * @param {{width: number, height: number, channels?: 3 | 4, pixels: Uint8Array}} image
 */
export function encodePng({ width, height, channels = 3, pixels }) {
  if (pixels.length !== width * height * channels) throw new Error("pixel buffer size does not match");
  const stride = width * channels;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0; // filter: none
    Buffer.from(pixels.buffer, pixels.byteOffset + y * stride, stride).copy(raw, y * (stride + 1) + 1);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = channels === 4 ? 6 : 2; // colour type: RGBA or RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw, { level: 9 })),
    chunk("IEND", new Uint8Array(0)),
  ]);
}

/** The width and height a PNG file states (its IHDR), or null when it is not a PNG. @param {Uint8Array} bytes */
export function pngSize(bytes) {
  const b = Buffer.from(bytes);
  const signature = "89504e470d0a1a0a";
  if (b.length < 24 || b.subarray(0, 8).toString("hex") !== signature || b.toString("latin1", 12, 16) !== "IHDR") {
    return null;
  }
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

/** "#f5c518" → [245, 197, 24]. @param {string} hex @returns {[number, number, number]} */
export function rgb(hex) {
  const n = parseInt(hex.replace("#", ""), 16);
  return [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

/** HSL (degrees, 0..1, 0..1) → RGB bytes. @returns {[number, number, number]} */
export function hsl(h, s, l) {
  const k = (n) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n) => Math.round(255 * (l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)))));
  return [f(0), f(8), f(4)];
}

/** A stable 32-bit hash of a string (FNV-1a), to pick colours from a name. @param {string} s */
export function hash(s) {
  let h = 0x811c9dc5;
  for (const ch of Buffer.from(s)) h = Math.imul(h ^ ch, 0x01000193) >>> 0;
  return h;
}

/**
 * A canvas of `width`×`height` pixels, painted by shapes given as signed distance functions (negative inside,
 * in pixels): edges are anti-aliased over one pixel.
 */
export class Canvas {
  /** @param {number} width @param {number} height @param {3 | 4} [channels] */
  constructor(width, height, channels = 3) {
    this.width = width;
    this.height = height;
    this.channels = channels;
    this.pixels = new Uint8Array(width * height * channels);
  }

  /** Every pixel one colour (alpha 255 unless given). @param {number[]} colour */
  clear(colour) {
    const [r, g, b, a = 255] = colour;
    for (let i = 0; i < this.pixels.length; i += this.channels) {
      this.pixels[i] = r;
      this.pixels[i + 1] = g;
      this.pixels[i + 2] = b;
      if (this.channels === 4) this.pixels[i + 3] = a;
    }
  }

  /**
   * Paints `colour` where `distance(x, y)` (at the pixel's centre) is below 0.5, blended over what is there.
   * `box` limits the pixels looked at: [x0, y0, x1, y1].
   * @param {(x: number, y: number) => number} distance
   * @param {number[]} colour
   * @param {number[]} [box]
   */
  fill(distance, colour, box = [0, 0, this.width, this.height]) {
    const [r, g, b] = colour;
    const x0 = Math.max(0, Math.floor(box[0]));
    const y0 = Math.max(0, Math.floor(box[1]));
    const x1 = Math.min(this.width, Math.ceil(box[2]));
    const y1 = Math.min(this.height, Math.ceil(box[3]));
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const cover = Math.max(0, Math.min(1, 0.5 - distance(x + 0.5, y + 0.5)));
        if (cover === 0) continue;
        const i = (y * this.width + x) * this.channels;
        const p = this.pixels;
        if (this.channels === 4) {
          // "over" compositing onto a possibly transparent pixel
          const da = p[i + 3] / 255;
          const oa = cover + da * (1 - cover);
          const mix = (src, dst) => (oa === 0 ? 0 : Math.round((src * cover + dst * da * (1 - cover)) / oa));
          p[i] = mix(r, p[i]);
          p[i + 1] = mix(g, p[i + 1]);
          p[i + 2] = mix(b, p[i + 2]);
          p[i + 3] = Math.round(oa * 255);
        } else {
          p[i] = Math.round(r * cover + p[i] * (1 - cover));
          p[i + 1] = Math.round(g * cover + p[i + 1] * (1 - cover));
          p[i + 2] = Math.round(b * cover + p[i + 2] * (1 - cover));
        }
      }
    }
  }

  png() {
    return encodePng(this);
  }
}

// Signed distance functions (negative inside).

/** A disc. */
export const circle = (cx, cy, r) => (x, y) => Math.hypot(x - cx, y - cy) - r;

/** An ellipse (approximate distance, exact on the axes: good enough for flat shapes). */
export const ellipse = (cx, cy, rx, ry) => (x, y) => {
  const k = Math.hypot((x - cx) / rx, (y - cy) / ry);
  return (k - 1) * Math.min(rx, ry);
};

/** A ring: the circle's outline, `width` wide. */
export const ring = (cx, cy, r, width) => (x, y) => Math.abs(Math.hypot(x - cx, y - cy) - r) - width / 2;

/** A rectangle with rounded corners of radius `radius`. */
export const roundedRect = (x0, y0, x1, y1, radius) => (x, y) => {
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  const qx = Math.abs(x - cx) - ((x1 - x0) / 2 - radius);
  const qy = Math.abs(y - cy) - ((y1 - y0) / 2 - radius);
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - radius;
};

/** A polyline stroked `width` wide with round caps and joins. @param {[number, number][]} points */
export const stroke = (points, width) => (x, y) => {
  let best = Infinity;
  for (let i = 1; i < points.length; i++) {
    const [ax, ay] = points[i - 1];
    const [bx, by] = points[i];
    const dx = bx - ax;
    const dy = by - ay;
    const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy || 1)));
    best = Math.min(best, Math.hypot(x - ax - t * dx, y - ay - t * dy));
  }
  return best - width / 2;
};

/** Points along a cubic Bézier curve from p0 to p3. */
export function cubic(p0, p1, p2, p3, steps = 48) {
  /** @type {[number, number][]} */
  const out = [];
  for (let i = 0; i <= steps; i++) {
    const t = i / steps;
    const u = 1 - t;
    const w = [u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t];
    out.push([
      w[0] * p0[0] + w[1] * p1[0] + w[2] * p2[0] + w[3] * p3[0],
      w[0] * p0[1] + w[1] * p1[1] + w[2] * p2[1] + w[3] * p3[1],
    ]);
  }
  return out;
}
