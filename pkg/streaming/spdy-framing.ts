// SPDY/3.1 framing, as Go's spdystream (kubectl port-forward's side) writes and reads it.
// Written here rather than taken from spdy-transport: that library enforces SPDY/3.1 flow
// control (it stops sending on a stream after 64 KiB until a WINDOW_UPDATE) and spdystream
// never sends WINDOW_UPDATE, and it refuses SYN_STREAMs without `:method`/`:path`, which
// kubectl's streams do not carry. Only spdy-transport's copy of the header dictionary is used.
//
// Frames: a control frame is `1 | version(15) | type(16) | flags(8) | length(24) | body`,
// a data frame `0 | stream id(31) | flags(8) | length(24) | data`. Header blocks are one
// zlib stream per direction and connection, primed with the SPDY/3 dictionary and
// sync-flushed after every block.

import { createRequire } from 'node:module';
import { constants, inflateRawSync } from 'node:zlib';

export const SPDY_VERSION = 3;

export const FRAME_TYPE = {
  synStream: 1,
  synReply: 2,
  rstStream: 3,
  settings: 4,
  ping: 6,
  goAway: 7,
  headers: 8,
  windowUpdate: 9,
} as const;

export const FLAG_FIN = 0x01;

/** RST_STREAM status codes. */
export const RST_STATUS = {
  protocolError: 1,
  invalidStream: 2,
  refusedStream: 3,
  cancel: 5,
  internalError: 6,
  streamInUse: 8,
  streamAlreadyClosed: 9,
  frameTooLarge: 11,
} as const;

/** GOAWAY status codes. */
export const GOAWAY_STATUS = { ok: 0, protocolError: 1, internalError: 2 } as const;

/** The largest control frame accepted: kubectl's are a few dozen bytes. */
export const MAX_CONTROL_FRAME = 64 * 1024;
/** The largest header block accepted once inflated, and the most headers in one. */
export const MAX_HEADER_BYTES = 64 * 1024;
export const MAX_HEADERS = 100;
const MAX_STREAM_ID = 0x7fffffff;
const ZLIB_WINDOW = 32 * 1024;
/** An empty, non-final stored block: what zlib's sync flush ends with. */
const SYNC_FLUSH_MARKER = Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]);

export class SpdyProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpdyProtocolError';
  }
}

function loadDictionary(): Buffer {
  const required: unknown = createRequire(import.meta.url)(
    'spdy-transport/lib/spdy-transport/protocol/spdy/dictionary.js',
  );
  const dictionary = typeof required === 'object' && required !== null && 3 in required ? required[3] : undefined;
  if (!Buffer.isBuffer(dictionary)) throw new Error('spdy-transport has no SPDY/3 header dictionary');
  return dictionary;
}

/** The SPDY/3 zlib dictionary both sides prime their header compression with. */
export const HEADER_DICTIONARY = loadDictionary();

export function adler32(data: Buffer): number {
  let a = 1;
  let b = 0;
  for (const byte of data) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** A parsed frame. Data frames come in pieces, the first one empty (`fin` only on the last one). */
export type SpdyFrame =
  | { kind: 'data'; streamId: number; fin: boolean; data: Buffer }
  | { kind: 'control'; type: number; flags: number; body: Buffer };

/**
 * Cuts a byte stream into frames, whatever the chunking. Data frames are handed on as their
 * bytes arrive (never buffered whole); control frames are buffered up to MAX_CONTROL_FRAME.
 */
export class FrameParser {
  private pending: Buffer = Buffer.alloc(0);
  /** The data frame being read: its stream, flags and bytes still to come. */
  private data: { streamId: number; fin: boolean; remaining: number } | undefined;

  constructor(private readonly onFrame: (frame: SpdyFrame) => void) {}

  /** Feeds bytes; throws SpdyProtocolError on a frame that cannot be valid. */
  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      if (this.data !== undefined) {
        if (!this.readData(this.data)) return;
        continue;
      }
      if (this.pending.length < 8) return;
      const head = this.pending;
      const flags = head.readUInt8(4);
      const length = head.readUIntBE(5, 3);
      if ((head.readUInt8(0) & 0x80) === 0) {
        const streamId = head.readUInt32BE(0) & MAX_STREAM_ID;
        this.pending = head.subarray(8);
        this.data = { streamId, fin: (flags & FLAG_FIN) !== 0, remaining: length };
        // Announced at once (empty), so that a frame for a stream never opened is refused before its bytes come.
        if (length > 0) this.onFrame({ kind: 'data', streamId, fin: false, data: Buffer.alloc(0) });
        continue;
      }
      const version = head.readUInt16BE(0) & 0x7fff;
      if (version !== SPDY_VERSION) throw new SpdyProtocolError(`unsupported SPDY version ${version}`);
      if (length > MAX_CONTROL_FRAME) throw new SpdyProtocolError(`control frame of ${length} bytes is too large`);
      if (head.length < 8 + length) return;
      const type = head.readUInt16BE(2);
      const body = Buffer.from(head.subarray(8, 8 + length));
      this.pending = head.subarray(8 + length);
      this.onFrame({ kind: 'control', type, flags, body });
    }
  }

  /** Hands on what has come of the current data frame; false when more bytes are needed. */
  private readData(frame: { streamId: number; fin: boolean; remaining: number }): boolean {
    const take = Math.min(frame.remaining, this.pending.length);
    if (take === 0 && frame.remaining > 0) return false;
    const piece = this.pending.subarray(0, take);
    this.pending = this.pending.subarray(take);
    frame.remaining -= take;
    const last = frame.remaining === 0;
    if (last) this.data = undefined;
    if (piece.length > 0 || last)
      this.onFrame({ kind: 'data', streamId: frame.streamId, fin: last && frame.fin, data: piece });
    return true;
  }
}

/** Header blocks as name → value (a name's several values are NUL-separated on the wire). */
export type SpdyHeaders = Map<string, string>;

/**
 * Inflates the peer's header blocks. They form one zlib stream, so a block may refer back
 * to earlier ones: the last 32 KiB of inflated output (at first the dictionary) is kept and
 * given to a one-shot raw inflate of each block, which a sync flush leaves byte-aligned.
 */
export class HeaderInflater {
  private window: Buffer = HEADER_DICTIONARY;
  private started = false;

  inflate(block: Buffer): SpdyHeaders {
    let raw = block;
    if (!this.started) {
      if (block.length < 2) throw new SpdyProtocolError('header block too short for its zlib header');
      const cmf = block.readUInt8(0);
      const flg = block.readUInt8(1);
      if ((cmf & 0x0f) !== 8 || ((cmf << 8) | flg) % 31 !== 0)
        throw new SpdyProtocolError('header block has no valid zlib header');
      let offset = 2;
      if ((flg & 0x20) !== 0) {
        if (block.length < 6 || block.readUInt32BE(2) !== adler32(HEADER_DICTIONARY))
          throw new SpdyProtocolError('header block asks for another zlib dictionary');
        offset = 6;
      }
      raw = block.subarray(offset);
      this.started = true;
    }
    let out: Buffer;
    try {
      out = inflateRawSync(raw, {
        dictionary: this.window,
        finishFlush: constants.Z_SYNC_FLUSH,
        maxOutputLength: MAX_HEADER_BYTES,
      });
    } catch (err) {
      throw new SpdyProtocolError(`header block does not inflate: ${err instanceof Error ? err.message : String(err)}`);
    }
    const joined = Buffer.concat([this.window, out]);
    this.window = joined.subarray(Math.max(0, joined.length - ZLIB_WINDOW));
    return parseHeaderBlock(out);
  }
}

export function parseHeaderBlock(block: Buffer): SpdyHeaders {
  const headers: SpdyHeaders = new Map();
  let at = 0;
  const u32 = (): number => {
    if (at + 4 > block.length) throw new SpdyProtocolError('truncated header block');
    const v = block.readUInt32BE(at);
    at += 4;
    return v;
  };
  const bytes = (n: number): string => {
    if (at + n > block.length) throw new SpdyProtocolError('truncated header block');
    const s = block.toString('latin1', at, at + n);
    at += n;
    return s;
  };
  const count = u32();
  if (count > MAX_HEADERS) throw new SpdyProtocolError(`${count} headers in one block are too many`);
  for (let i = 0; i < count; i++) {
    const name = bytes(u32()).toLowerCase();
    const value = bytes(u32());
    headers.set(name, value.split('\0')[0] ?? '');
  }
  return headers;
}

function headerBlock(headers: Iterable<[string, string]>): Buffer {
  const parts: Buffer[] = [];
  let count = 0;
  for (const [name, value] of headers) {
    for (const s of [name.toLowerCase(), value]) {
      const b = Buffer.from(s, 'latin1');
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      parts.push(len, b);
    }
    count++;
  }
  const head = Buffer.alloc(4);
  head.writeUInt32BE(count);
  return Buffer.concat([head, ...parts]);
}

/**
 * Writes header blocks as zlib "stored" (uncompressed) blocks: a valid continuation of one
 * zlib stream for any reader, with no compression state to keep in step. Each block ends
 * with the empty stored block a sync flush writes: Go's inflater hands out a stored block's
 * bytes only when it reads the next block, and must not read past this frame for it.
 */
export class HeaderDeflater {
  private started = false;

  deflate(headers: Iterable<[string, string]>): Buffer {
    const raw = headerBlock(headers);
    const parts: Buffer[] = [];
    if (!this.started) {
      const id = Buffer.alloc(4);
      id.writeUInt32BE(adler32(HEADER_DICTIONARY));
      // CMF 0x78 (deflate, 32 KiB window), FLG 0x3f: FDICT set, check bits make 0x783f a multiple of 31.
      parts.push(Buffer.from([0x78, 0x3f]), id);
      this.started = true;
    }
    for (let at = 0; at === 0 || at < raw.length; at += 0xffff) {
      const piece = raw.subarray(at, at + 0xffff);
      const head = Buffer.alloc(5);
      head.writeUInt8(0, 0); // not final, stored
      head.writeUInt16LE(piece.length, 1);
      head.writeUInt16LE(~piece.length & 0xffff, 3);
      parts.push(head, piece);
    }
    parts.push(SYNC_FLUSH_MARKER);
    return Buffer.concat(parts);
  }
}

export function controlFrame(type: number, flags: number, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt8(flags, 4);
  head.writeUIntBE(body.length, 5, 3);
  return Buffer.concat([head, body]);
}

/** A data frame's 8 header bytes; its data follows as a separate write (no copy). */
export function dataFrameHeader(streamId: number, fin: boolean, length: number): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(streamId & MAX_STREAM_ID, 0);
  head.writeUInt8(fin ? FLAG_FIN : 0, 4);
  head.writeUIntBE(length, 5, 3);
  return head;
}

export function dataFrame(streamId: number, fin: boolean, data: Buffer): Buffer {
  return Buffer.concat([dataFrameHeader(streamId, fin, data.length), data]);
}

function u32s(...values: number[]): Buffer {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i));
  return b;
}

export function synReplyFrame(streamId: number, headerBlockBytes: Buffer): Buffer {
  return controlFrame(FRAME_TYPE.synReply, 0, Buffer.concat([u32s(streamId & MAX_STREAM_ID), headerBlockBytes]));
}

/** A SYN_STREAM (what a client sends; the server never opens streams, tests do). */
export function synStreamFrame(stream: { id: number; fin: boolean }, headerBlockBytes: Buffer): Buffer {
  const body = Buffer.concat([u32s(stream.id & MAX_STREAM_ID, 0), Buffer.from([0, 0]), headerBlockBytes]);
  return controlFrame(FRAME_TYPE.synStream, stream.fin ? FLAG_FIN : 0, body);
}

export function rstStreamFrame(streamId: number, status: number): Buffer {
  return controlFrame(FRAME_TYPE.rstStream, 0, u32s(streamId & MAX_STREAM_ID, status));
}

export function pingFrame(id: number): Buffer {
  return controlFrame(FRAME_TYPE.ping, 0, u32s(id));
}

export function goAwayFrame(lastStreamId: number, status: number): Buffer {
  return controlFrame(FRAME_TYPE.goAway, 0, u32s(lastStreamId & MAX_STREAM_ID, status));
}

/** The stream id a SYN_STREAM, SYN_REPLY, RST_STREAM or HEADERS frame body starts with. */
export function frameStreamId(body: Buffer): number {
  if (body.length < 4) throw new SpdyProtocolError('control frame too short for its stream id');
  return body.readUInt32BE(0) & MAX_STREAM_ID;
}
