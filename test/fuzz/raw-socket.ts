/**
 * A WebSocket client written out byte by byte, so the suite can send what no well-behaved
 * client library would: unmasked frames, reserved opcodes and bits, broken UTF-8, bad
 * close codes. Only for loopback tests.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

export interface FrameOptions {
  readonly fin?: boolean;
  readonly rsv1?: boolean;
  readonly masked?: boolean;
}

export function frame(opcode: number, payload: Buffer, options: FrameOptions = {}): Buffer {
  const { fin = true, rsv1 = false, masked = true } = options;
  const head = [(fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | (opcode & 0x0f)];
  const maskBit = masked ? 0x80 : 0;
  if (payload.length < 126) head.push(maskBit | payload.length);
  else if (payload.length < 65536) head.push(maskBit | 126, payload.length >> 8, payload.length & 255);
  else {
    head.push(maskBit | 127, 0, 0, 0, 0);
    head.push((payload.length >>> 24) & 255, (payload.length >>> 16) & 255, (payload.length >>> 8) & 255, payload.length & 255);
  }
  if (!masked) return Buffer.concat([Buffer.from(head), payload]);
  const mask = randomBytes(4);
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from(head), mask, body]);
}

export function upgradeRequest(host: string, path: string, headers: Record<string, string> = {}): string {
  const lines = [
    `GET ${path} HTTP/1.1`,
    `Host: ${host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

export interface OpenSocket {
  readonly socket: Socket;
  /** Everything received after the handshake's response. */
  received(): Buffer;
  /** Resolves when the server has closed the connection. */
  readonly closed: Promise<void>;
}

/** Connect and complete the handshake; rejects when the upgrade is refused. */
export function openRaw(port: number, host: string, path: string, headers: Record<string, string> = {}): Promise<OpenSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buffer = Buffer.alloc(0);
    let upgraded = false;
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('error', () => undefined); // a reset from the server is one of the outcomes under test
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (upgraded) return;
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffer.subarray(0, end).toString();
      buffer = buffer.subarray(end + 4);
      if (!head.startsWith('HTTP/1.1 101')) {
        socket.destroy();
        reject(new Error(head.split('\r\n')[0]));
        return;
      }
      upgraded = true;
      resolve({ socket, received: () => buffer, closed });
    });
    socket.write(upgradeRequest(host, path, headers));
  });
}

/** The close code in the first close frame the server sent (unmasked, as a server's frames are), if any. */
export function closeCodeIn(data: Buffer): number | undefined {
  let at = 0;
  while (at + 2 <= data.length) {
    const opcode = data[at]! & 0x0f;
    let length = data[at + 1]! & 0x7f;
    let offset = at + 2;
    if (length === 126) {
      length = data.readUInt16BE(offset);
      offset += 2;
    } else if (length === 127) {
      length = Number(data.readBigUInt64BE(offset));
      offset += 8;
    }
    if (opcode === 0x8) return length >= 2 ? data.readUInt16BE(offset) : 1005;
    at = offset + length;
  }
  return undefined;
}
