/**
 * Wrong types for every command in the contract, over both doors (POST /api/commands and
 * the WebSocket): each is refused with INVALID_COMMAND and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { COMMAND_NAMES, parseCommand, type CommandName, type CommandReply } from '../../src-preload/contract.js';
import { expectHealthy, report, startProduct, type Product, type ProductSnapshot } from './product.js';

let product: Product;
beforeAll(async () => {
  product = await startProduct();
});
afterAll(async () => {
  await product?.stop();
});

/** Values of every wrong kind, and keys of every command, combined: what a careless or hostile client sends. */
const WRONG_VALUES: unknown[] = [
  null,
  true,
  -1,
  0,
  1.5,
  1e308,
  -1e308,
  '',
  'policy',
  '../etc',
  'x'.repeat(10_000),
  [],
  [1],
  {},
  { $gt: 0 },
];
const KEYS = [
  'model',
  'version',
  'count',
  'capacity',
  'fullPolicy',
  'fullWaitTimeoutMs',
  'queueTimeoutMs',
  'maxBatchSize',
  'maxQueueDelayUs',
  'sampler',
  'alpha',
  'beta',
  'maxTimesSampled',
  'batchSize',
  'samplesPerInsert',
  'minSize',
  'kind',
  'items',
  'confirm',
  '__proto__',
  'constructor',
];

/** Argument objects that the contract refuses for `command` (a candidate it would accept is left out). */
function wrongArguments(command: CommandName): unknown[] {
  const candidates: unknown[] = [...WRONG_VALUES];
  for (const key of KEYS) for (const value of WRONG_VALUES) candidates.push({ model: 'policy', [key]: value });
  candidates.push(JSON.parse('{"model":"policy","__proto__":{"polluted":true}}'));
  return candidates.filter((args) => !parseCommand(command, args).ok);
}

/** What a refused command must leave as it was. */
function state(s: ProductSnapshot) {
  return {
    queues: s.engine.queues,
    models: s.engine.models.map((m) => ({ name: m.name, version: m.version })),
    workers: s.engine.workers.length,
  };
}

describe('fuzz: commands', () => {
  it('refuses wrong types for every command over HTTP and the WebSocket, and nothing changes', async () => {
    const before = state(await expectHealthy(product));
    const ws = new WebSocket(`ws://${product.host}/ws?token=${product.token}`);
    const replies = new Map<number, CommandReply>();
    ws.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { type: string; reply?: CommandReply };
      if (message.type === 'reply') replies.set(message.reply!.id, message.reply!);
    });
    await new Promise((resolve) => ws.once('open', resolve));
    const counts: Record<string, number> = {};
    let id = 1;
    for (const command of COMMAND_NAMES) {
      const wrong = wrongArguments(command);
      counts[command] = wrong.length * 2;
      for (const args of wrong) {
        const body = JSON.stringify({ id: id++, command, args });
        const answer = await fetch(`${product.origin}/api/commands`, {
          method: 'POST',
          body,
          headers: { Authorization: `Bearer ${product.token}`, 'Content-Type': 'application/json' },
        });
        expect(answer.status, body.slice(0, 200)).toBe(400);
        expect(await answer.json()).toMatchObject({ ok: false, error: { code: 'INVALID_COMMAND' } });
        ws.send(JSON.stringify({ id: id++, command, args }));
      }
    }
    // Every WebSocket command has its reply (in order, so the last one's arrival means all have come).
    for (const deadline = Date.now() + 30_000; !replies.has(id - 1) && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));
    const wsReplies = [...replies.values()];
    expect(wsReplies.length).toBe((id - 1) / 2);
    expect(wsReplies.every((r) => !r.ok && r.error.code === 'INVALID_COMMAND')).toBe(true);
    ws.close();
    const after = await expectHealthy(product);
    expect(state(after)).toEqual(before);
    report('commands', { ...counts, total: id - 1, accepted: 0 });
  }, 120_000);
});
