// SPDY/3.1 framing and the server session: header blocks as Go's zlib writer makes them
// (one stream, dictionary, sync flush) are read; ours are readable by a zlib stream reader;
// frames survive any chunking; streams open, carry data both ways, half-close and reset;
// pings are echoed; hostile frames end the connection and nothing else.

import assert from 'node:assert/strict';
import { Duplex, PassThrough } from 'node:stream';
import { test } from 'node:test';
import { constants, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';
import {
  dataFrame,
  FRAME_TYPE,
  FrameParser,
  HEADER_DICTIONARY,
  HeaderDeflater,
  HeaderInflater,
  pingFrame,
  rstStreamFrame,
  RST_STATUS,
  synStreamFrame,
  type SpdyFrame,
  type SpdyHeaders,
} from './spdy-framing.js';
import { SpdyServerSession, type SpdyStream } from './spdy-session.js';

/** What Go's framer writes for a header block: the pairs, deflated on one stream, sync-flushed. */
function goHeaderBlock(deflate: Deflate, pairs: [string, string][]): Promise<Buffer> {
  const parts: Buffer[] = [Buffer.from([0, 0, 0, pairs.length])];
  for (const [k, v] of pairs)
    for (const s of [k, v]) {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(s.length);
      parts.push(len, Buffer.from(s));
    }
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const onData = (c: Buffer): number => out.push(c);
    deflate.on('data', onData);
    deflate.write(Buffer.concat(parts));
    deflate.flush(constants.Z_SYNC_FLUSH, () => {
      deflate.off('data', onData);
      resolve(Buffer.concat(out));
    });
  });
}

function inflateChunk(inflate: Inflate, chunk: Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const onData = (c: Buffer): number => out.push(c);
    inflate.on('data', onData);
    inflate.write(chunk);
    inflate.flush(constants.Z_SYNC_FLUSH, () => {
      inflate.off('data', onData);
      resolve(Buffer.concat(out));
    });
  });
}

test('header blocks deflated on one Go-style zlib stream are read one after another', async () => {
  const deflate = createDeflate({ dictionary: HEADER_DICTIONARY, level: 9 });
  const inflater = new HeaderInflater();
  for (let i = 0; i < 50; i++) {
    const block = await goHeaderBlock(deflate, [
      ['streamtype', i % 2 === 0 ? 'error' : 'data'],
      ['port', '80'],
      ['requestid', String(i)],
    ]);
    const headers = inflater.inflate(block);
    assert.equal(headers.get('requestid'), String(i));
    assert.equal(headers.get('port'), '80');
  }
  deflate.close();
});

test('our header blocks read back on one zlib stream with the dictionary', async () => {
  const deflater = new HeaderDeflater();
  const inflate = createInflate({ dictionary: HEADER_DICTIONARY });
  for (let i = 0; i < 5; i++) {
    const raw = await inflateChunk(inflate, deflater.deflate([['n', String(i)]]));
    assert.equal(raw.readUInt32BE(0), 1);
    assert.equal(raw.subarray(8, 9).toString(), 'n');
    assert.equal(raw.subarray(13).toString(), String(i));
  }
  inflate.close();
});

test('a header bomb, a foreign dictionary or garbage is a protocol error', async () => {
  const deflate = createDeflate({ dictionary: HEADER_DICTIONARY });
  const bomb = await goHeaderBlock(deflate, [['x', 'a'.repeat(200_000)]]);
  assert.throws(() => new HeaderInflater().inflate(bomb), /SpdyProtocolError|does not inflate/);
  const other = await goHeaderBlock(createDeflate({ dictionary: Buffer.from('another dictionary') }), [['a', 'b']]);
  assert.throws(() => new HeaderInflater().inflate(other), /another zlib dictionary/);
  assert.throws(() => new HeaderInflater().inflate(Buffer.from([1, 2, 3, 4])), /zlib header/);
  deflate.close();
});

test('frames come out whole whatever the chunking; data frames in pieces', () => {
  const deflater = new HeaderDeflater();
  const bytes = Buffer.concat([
    synStreamFrame({ id: 1, fin: false }, deflater.deflate([['port', '80']])),
    dataFrame(1, false, Buffer.from('hello')),
    dataFrame(1, true, Buffer.alloc(0)),
    pingFrame(7),
  ]);
  for (const size of [1, 3, 8, 1000]) {
    const frames: SpdyFrame[] = [];
    const parser = new FrameParser((f) => frames.push(f));
    for (let at = 0; at < bytes.length; at += size) parser.push(bytes.subarray(at, at + size));
    const control = frames.filter((f) => f.kind === 'control').map((f) => (f.kind === 'control' ? f.type : 0));
    assert.deepEqual(control, [FRAME_TYPE.synStream, FRAME_TYPE.ping]);
    const data = frames.flatMap((f) => (f.kind === 'data' ? [f] : []));
    assert.equal(Buffer.concat(data.map((d) => d.data)).toString(), 'hello');
    assert.deepEqual(
      data.filter((d) => d.fin).map((d) => d.streamId),
      [1],
    );
  }
});

/** A server session on an in-memory transport, and a minimal client for it. */
function harness(onStream: (s: SpdyStream) => void): {
  send: (b: Buffer) => void;
  frames: SpdyFrame[];
  replies: SpdyHeaders[];
  closed: Promise<Error | undefined>;
  session: SpdyServerSession;
  syn: (id: number, headers: [string, string][], fin?: boolean) => void;
} {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const transport = Duplex.from({ readable: toServer, writable: toClient });
  const frames: SpdyFrame[] = [];
  const replies: SpdyHeaders[] = [];
  const inflater = new HeaderInflater();
  const parser = new FrameParser((f) => {
    frames.push(f);
    if (f.kind === 'control' && f.type === FRAME_TYPE.synReply) replies.push(inflater.inflate(f.body.subarray(4)));
  });
  toClient.on('data', (c: Buffer) => parser.push(c));
  let closedWith: (e: Error | undefined) => void = () => undefined;
  const closed = new Promise<Error | undefined>((r) => (closedWith = r));
  const session = new SpdyServerSession(transport, { onStream, onClose: (e) => closedWith(e) });
  const deflater = new HeaderDeflater();
  return {
    send: (b) => toServer.write(b),
    frames,
    replies,
    closed,
    session,
    syn: (id, headers, fin = false) => toServer.write(synStreamFrame({ id, fin }, deflater.deflate(headers))),
  };
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

test('a stream is answered, echoes data both ways, half-closes, and is forgotten', async () => {
  const h = harness((s) => {
    s.reply();
    s.pipe(s); // echo
  });
  h.syn(1, [['streamtype', 'data']]);
  h.send(dataFrame(1, false, Buffer.from('ping')));
  h.send(dataFrame(1, true, Buffer.alloc(0)));
  await tick();
  assert.equal(h.replies.length, 1);
  const back = h.frames.flatMap((f) => (f.kind === 'data' && f.streamId === 1 ? [f] : []));
  assert.equal(Buffer.concat(back.map((f) => f.data)).toString(), 'ping');
  assert.ok(back.at(-1)?.fin, 'the server half-closed after the client did');
  assert.equal(h.session.openStreams, 0);
});

test('pings are echoed; even, reused or falling stream ids are reset; a reset stream is destroyed', async () => {
  const seen: SpdyStream[] = [];
  const h = harness((s) => {
    seen.push(s);
    s.reply();
  });
  h.send(pingFrame(9));
  h.syn(2, []);
  h.syn(5, []);
  h.syn(3, []);
  await tick();
  const pings = h.frames.filter((f) => f.kind === 'control' && f.type === FRAME_TYPE.ping);
  assert.equal(pings.length, 1);
  const resets = h.frames.flatMap((f) =>
    f.kind === 'control' && f.type === FRAME_TYPE.rstStream ? [[f.body.readUInt32BE(0), f.body.readUInt32BE(4)]] : [],
  );
  assert.deepEqual(resets, [
    [2, RST_STATUS.protocolError],
    [3, RST_STATUS.protocolError],
  ]);
  assert.deepEqual(
    seen.map((s) => s.id),
    [5],
  );
  h.send(rstStreamFrame(5, RST_STATUS.cancel));
  await tick();
  assert.ok(seen[0]?.destroyed);
  assert.equal(h.session.openStreams, 0);
});

test('garbage, a wrong version or an oversized control frame ends the connection with GOAWAY', async () => {
  for (const bad of [
    Buffer.from('GET / HTTP/1.1\r\n\r\n'),
    Buffer.from([0x80, 0x02, 0, 1, 0, 0, 0, 0]),
    Buffer.from([0x80, 0x03, 0, 1, 0, 0xff, 0xff, 0xff]),
  ]) {
    const h = harness(() => assert.fail('no stream may open'));
    h.send(bad);
    const why = await h.closed;
    assert.ok(why instanceof Error, `closed with a reason for ${bad.toString('hex')}`);
    await tick();
    assert.ok(h.frames.some((f) => f.kind === 'control' && f.type === FRAME_TYPE.goAway));
  }
});
