/**
 * Writes the extension icon (images/extension-icon.png, 128×128) and every task's icon (tasks/<Folder>/icon.png,
 * 32×32) as PNGs made with node:zlib only. The design is two white "sites" joined by a link on a blue field; the
 * bytes are deterministic, so the committed files only change when this script does. `tsx scripts/make-icons.ts`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { CAPABILITIES } from '../src/capabilities';
import { ROOT } from './manifests';

export const EXTENSION_ICON = 'images/extension-icon.png';
export const EXTENSION_ICON_SIZE = 128;
export const TASK_ICON_SIZE = 32;

const BLUE: readonly [number, number, number] = [0x0b, 0x5c, 0xad];
const WHITE: readonly [number, number, number] = [0xff, 0xff, 0xff];

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE) as PNG chunks need it. */
function crc32(buf: Buffer): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** True where the design is white, in unit coordinates (0..1 on both axes, y down). */
function isForeground(u: number, v: number): boolean {
  const site = (x0: number): boolean => {
    // a rack: an outlined box with two "server" slots
    const x1 = x0 + 0.3;
    const inBox = u >= x0 && u < x1 && v >= 0.22 && v < 0.78;
    if (!inBox) return false;
    const border = u < x0 + 0.06 || u >= x1 - 0.06 || v < 0.28 || v >= 0.72;
    const slot = (v >= 0.36 && v < 0.44) || (v >= 0.56 && v < 0.64);
    return border || (slot && u >= x0 + 0.1 && u < x1 - 0.1);
  };
  const link = u >= 0.42 && u < 0.58 && v >= 0.46 && v < 0.54;
  return site(0.12) || site(0.58) || link;
}

/** A `size`×`size` RGB PNG of the icon design. Deterministic for a given size. */
export function iconPng(size: number): Buffer {
  const rowLen = 1 + size * 3;
  const raw = Buffer.alloc(rowLen * size);
  for (let y = 0; y < size; y++) {
    raw[y * rowLen] = 0; // filter: none
    for (let x = 0; x < size; x++) {
      const [r, g, b] = isForeground((x + 0.5) / size, (y + 0.5) / size) ? WHITE : BLUE;
      const o = y * rowLen + 1 + x * 3;
      raw[o] = r;
      raw[o + 1] = g;
      raw[o + 2] = b;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  ihdr[10] = 0; // compression
  ihdr[11] = 0; // filter
  ihdr[12] = 0; // interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Writes `bytes` to ROOT/rel unless the file already holds exactly them. Returns true when it wrote. */
function writeIfChanged(root: string, rel: string, bytes: Buffer): boolean {
  const file = path.join(root, rel);
  if (fs.existsSync(file) && fs.readFileSync(file).equals(bytes)) return false;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, bytes);
  return true;
}

/** Every icon this script owns: repo-relative path → bytes. */
export function expectedIcons(): Map<string, Buffer> {
  const out = new Map<string, Buffer>([[EXTENSION_ICON, iconPng(EXTENSION_ICON_SIZE)]]);
  const task = iconPng(TASK_ICON_SIZE);
  for (const e of CAPABILITIES) out.set(`tasks/${e.task.folder}/icon.png`, task);
  return out;
}

/** Makes sure every task folder of the registry has its icon.png. Returns the repo-relative paths written. */
export function writeTaskIcons(root: string = ROOT): string[] {
  const task = iconPng(TASK_ICON_SIZE);
  return CAPABILITIES.map((e) => `tasks/${e.task.folder}/icon.png`).filter((rel) => writeIfChanged(root, rel, task));
}

/** Writes the extension icon and every task icon. Returns the repo-relative paths written. */
export function writeIcons(root: string = ROOT): string[] {
  const written = writeIfChanged(root, EXTENSION_ICON, iconPng(EXTENSION_ICON_SIZE)) ? [EXTENSION_ICON] : [];
  return [...written, ...writeTaskIcons(root)];
}

if (require.main === module) {
  const written = writeIcons();
  for (const [rel] of expectedIcons()) console.log(`${written.includes(rel) ? 'wrote    ' : 'unchanged'} ${rel}`);
}
