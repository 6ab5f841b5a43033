// The server side of a SPDY/3.1 connection, as Go's spdystream clients (kubectl) expect it:
// the client opens streams (odd, rising ids), the server answers each with SYN_REPLY or
// resets it, both sides half-close with FIN, PINGs are echoed. No flow control: spdystream
// neither sends nor honours WINDOW_UPDATE. A stream is a Duplex; a reader that falls behind
// pauses the whole connection, as spdystream's frame workers block on a stream's channel.

import { Duplex } from 'node:stream';
import {
  dataFrameHeader,
  FLAG_FIN,
  FRAME_TYPE,
  FrameParser,
  frameStreamId,
  GOAWAY_STATUS,
  goAwayFrame,
  HeaderDeflater,
  HeaderInflater,
  pingFrame,
  RST_STATUS,
  rstStreamFrame,
  SpdyProtocolError,
  synReplyFrame,
  type SpdyFrame,
  type SpdyHeaders,
} from './spdy-framing.js';

/** Streams one connection may hold open at once; beyond, new ones are refused. */
export const MAX_OPEN_STREAMS = 1000;

export class SpdyStream extends Duplex {
  private remoteClosed = false;
  private localClosed = false;
  private replied = false;

  constructor(
    private readonly session: SpdyServerSession,
    readonly id: number,
    readonly headers: SpdyHeaders,
  ) {
    super({ allowHalfOpen: true });
  }

  /** Accepts the stream (SYN_REPLY); data written before is held until then by the caller. */
  reply(): void {
    if (this.replied || this.destroyed) return;
    this.replied = true;
    this.session.sendReply(this.id);
  }

  /** Refuses or cancels the stream (RST_STREAM) and forgets it. */
  reset(status: number = RST_STATUS.cancel): void {
    if (!this.destroyed) this.session.sendReset(this.id, status);
    this.remoteClosed = true;
    this.localClosed = true;
    this.destroy();
  }

  /** Bytes from the peer; false when the reader is full. */
  receive(data: Buffer, fin: boolean): boolean {
    if (this.remoteClosed) return true;
    let more = true;
    if (data.length > 0) more = this.push(data);
    if (fin) {
      this.remoteClosed = true;
      this.push(null);
      this.maybeDone();
    }
    return more;
  }

  /** The peer reset the stream. */
  peerReset(): void {
    this.remoteClosed = true;
    this.localClosed = true;
    this.destroy();
  }

  override _read(): void {
    this.session.readerReady(this);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.reply();
    this.session.sendData({ id: this.id, fin: false, data: chunk }, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.reply();
    this.localClosed = true;
    this.session.sendData({ id: this.id, fin: true, data: Buffer.alloc(0) }, (err) => {
      this.maybeDone();
      callback(err);
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!(this.remoteClosed && this.localClosed)) this.session.sendReset(this.id, RST_STATUS.cancel);
    this.remoteClosed = true;
    this.localClosed = true;
    this.session.forget(this);
    callback(error);
  }

  private maybeDone(): void {
    if (this.remoteClosed && this.localClosed) this.session.forget(this);
  }
}

export interface SpdySessionOptions {
  /** Called for every stream the client opens; it must reply() or reset() it. */
  onStream: (stream: SpdyStream) => void;
  /** Called once, when the connection is gone (with why, if it was a protocol error). */
  onClose?: (error?: Error) => void;
}

export class SpdyServerSession {
  private readonly streams = new Map<number, SpdyStream>();
  private readonly parser = new FrameParser((frame) => this.handle(frame));
  private readonly inflater = new HeaderInflater();
  private readonly deflater = new HeaderDeflater();
  /** Streams whose reader is full: the connection reads on once none is left. */
  private readonly fullReaders = new Set<SpdyStream>();
  private lastStreamId = 0;
  private closed = false;

  constructor(
    private readonly transport: Duplex,
    private readonly options: SpdySessionOptions,
  ) {
    transport.on('data', (chunk: Buffer) => this.receive(chunk));
    transport.on('end', () => this.close());
    transport.on('close', () => this.close());
    transport.on('error', (err: Error) => this.close(err));
  }

  get openStreams(): number {
    return this.streams.size;
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    try {
      this.parser.push(chunk);
    } catch (err) {
      if (!(err instanceof SpdyProtocolError)) throw err;
      this.write(goAwayFrame(this.lastStreamId, GOAWAY_STATUS.protocolError));
      this.transport.end();
      this.close(err);
    }
  }

  private handle(frame: SpdyFrame): void {
    if (this.closed) return;
    if (frame.kind === 'data') {
      const stream = this.streams.get(frame.streamId);
      if (stream === undefined) {
        if (frame.streamId % 2 === 0 || frame.streamId > this.lastStreamId)
          throw new SpdyProtocolError(`data for stream ${frame.streamId}, which the client never opened`);
        return; // a stream already gone: spdystream drops these too
      }
      if (!stream.receive(frame.data, frame.fin)) {
        this.fullReaders.add(stream);
        this.transport.pause();
      }
      return;
    }
    const { type, flags, body } = frame;
    switch (type) {
      case FRAME_TYPE.synStream:
        return this.openStream(body, (flags & FLAG_FIN) !== 0);
      case FRAME_TYPE.synReply:
      case FRAME_TYPE.headers:
        // Not expected from a client, but their header blocks move the zlib stream on.
        if (body.length < 4) throw new SpdyProtocolError('control frame too short');
        this.inflater.inflate(body.subarray(4));
        return;
      case FRAME_TYPE.rstStream:
        this.streams.get(frameStreamId(body))?.peerReset();
        return;
      case FRAME_TYPE.ping:
        if (body.length !== 4) throw new SpdyProtocolError('PING frame of the wrong size');
        // Client pings have odd ids; answers to our own (we send none) would be even.
        if ((body.readUInt32BE(0) & 1) === 1) this.write(pingFrame(body.readUInt32BE(0)));
        return;
      case FRAME_TYPE.goAway:
        this.transport.end();
        this.close();
        return;
      default:
        // SETTINGS, WINDOW_UPDATE and unknown types are ignored, as the spec asks.
        return;
    }
  }

  private openStream(body: Buffer, fin: boolean): void {
    if (body.length < 10) throw new SpdyProtocolError('SYN_STREAM too short');
    const id = frameStreamId(body);
    // The header block is inflated whatever becomes of the stream, to keep the zlib stream in step.
    const headers = this.inflater.inflate(body.subarray(10));
    if (id % 2 === 0 || id <= this.lastStreamId) {
      this.sendReset(id, RST_STATUS.protocolError);
      return;
    }
    this.lastStreamId = id;
    if (this.streams.size >= MAX_OPEN_STREAMS) {
      this.sendReset(id, RST_STATUS.refusedStream);
      return;
    }
    const stream = new SpdyStream(this, id, headers);
    this.streams.set(id, stream);
    if (fin) stream.receive(Buffer.alloc(0), true);
    this.options.onStream(stream);
  }

  readerReady(stream: SpdyStream): void {
    if (!this.fullReaders.delete(stream)) return;
    if (this.fullReaders.size === 0 && !this.closed) this.transport.resume();
  }

  forget(stream: SpdyStream): void {
    if (this.streams.get(stream.id) === stream) this.streams.delete(stream.id);
    this.readerReady(stream);
  }

  sendReply(id: number): void {
    this.write(synReplyFrame(id, this.deflater.deflate([])));
  }

  sendReset(id: number, status: number): void {
    this.write(rstStreamFrame(id, status));
  }

  sendData(frame: { id: number; fin: boolean; data: Buffer }, callback: (err?: Error | null) => void): void {
    if (this.closed) return callback(new Error('the SPDY connection is closed'));
    // Header and data as one writev: a frame's bytes are not copied.
    this.transport.cork();
    this.transport.write(dataFrameHeader(frame.id, frame.fin, frame.data.length));
    const more = frame.data.length === 0 || this.transport.write(frame.data);
    this.transport.uncork();
    if (more) return callback();
    // Resolve on drain, or at once if the connection goes away meanwhile.
    const done = (): void => {
      this.transport.off('drain', done);
      this.transport.off('close', done);
      callback();
    };
    this.transport.on('drain', done);
    this.transport.on('close', done);
  }

  private write(frame: Buffer): void {
    if (!this.closed && this.transport.writable) this.transport.write(frame);
  }

  /** Ends every stream and the connection. */
  close(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    for (const stream of [...this.streams.values()]) stream.peerReset();
    this.streams.clear();
    this.fullReaders.clear();
    if (!this.transport.destroyed) this.transport.destroy();
    this.options.onClose?.(error);
  }
}
