/**
 * A tiny tar writer for tests: well-formed archives, and malicious ones
 * (traversal, absolute paths, links, devices) that real tools refuse to make.
 */
import { gzipSync } from "node:zlib";

export interface TarEntry {
  name: string;
  /** "0" file (default), "1" hardlink, "2" symlink, "3" char device, "4" block device, "5" directory, "6" fifo. */
  type?: string;
  content?: string | Buffer;
  linkname?: string;
  mode?: number;
}

function field(buf: Buffer, offset: number, length: number, value: string): void {
  buf.write(value.slice(0, length), offset, length, "utf8");
}

function octal(buf: Buffer, offset: number, length: number, value: number): void {
  field(buf, offset, length, `${value.toString(8).padStart(length - 1, "0")}\0`);
}

function header(name: string, type: string, size: number, mode: number, linkname = ""): Buffer {
  const h = Buffer.alloc(512);
  field(h, 0, 100, name);
  octal(h, 100, 8, mode);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, 1_700_000_000);
  h.write("        ", 148, 8, "ascii");
  field(h, 156, 1, type);
  field(h, 157, 100, linkname);
  field(h, 257, 6, "ustar\0");
  field(h, 263, 2, "00");
  let sum = 0;
  for (const b of h) sum += b;
  field(h, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return h;
}

function padded(data: Buffer): Buffer[] {
  const pad = (512 - (data.length % 512)) % 512;
  return [data, Buffer.alloc(pad)];
}

export function tar(entries: readonly TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? "0";
    const data = type === "0" ? Buffer.from(e.content ?? "") : Buffer.alloc(0);
    let name = e.name;
    if (Buffer.byteLength(name) > 99) {
      const record = (len: number) => `${len} path=${e.name}\n`;
      let len = Buffer.byteLength(record(0));
      while (Buffer.byteLength(record(len)) !== len) len = Buffer.byteLength(record(len));
      const pax = Buffer.from(record(len));
      blocks.push(header("PaxHeader", "x", pax.length, 0o644), ...padded(pax));
      name = e.name.slice(0, 99);
    }
    blocks.push(
      header(name, type, data.length, e.mode ?? (type === "5" ? 0o755 : 0o644), e.linkname),
    );
    if (data.length) blocks.push(...padded(data));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export function tarGz(entries: readonly TarEntry[]): Buffer {
  return gzipSync(tar(entries));
}
