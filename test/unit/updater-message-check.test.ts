import { describe, expect, it } from 'vitest';
import { checkToHost, truncateForReport } from '../../src-main/updater/message-check.js';
import { LIMITS, ToHostSchema, type ModelView, type VersionView } from '../../src-main/updater/protocol.js';

const version = (n: number, inputName = 'obs'): VersionView => ({
  version: n,
  state: 'valid',
  reason: null,
  sha256: 'a'.repeat(64),
  sizeBytes: 100,
  mtimeMs: 1,
  signature: {
    inputs: [{ name: inputName, dtype: 'float32', shape: ['N', 4] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 2] }],
  },
  timings: { hashMs: 1, loadMs: 1, warmupMs: 1 },
  batching: null,
});

const model = (name: string, versions: VersionView[], configError: string | null = null): ModelView => ({
  name,
  config: { versionPolicy: { kind: 'pinned', version: 1 } },
  configError,
  versions,
});

describe('updater message check', () => {
  it('passes a valid message unchanged', () => {
    const message = { type: 'repository' as const, models: [model('a', [version(1)])] };
    expect(checkToHost(message)).toEqual({ ok: true, message, repairs: [] });
  });

  it("keeps a sibling's config when one model's config error breaks the limit: only that model is marked", () => {
    const raw = {
      type: 'repository',
      models: [model('pinned', [version(1)]), model('broken', [version(1)], 'x'.repeat(LIMITS.configError + 1))],
    };
    expect(ToHostSchema.safeParse(raw).success).toBe(false); // the whole message used to be dropped
    const checked = checkToHost(raw);
    expect(checked.ok).toBe(true);
    if (!checked.ok) return;
    const models = (checked.message as { models: ModelView[] }).models;
    expect(models[0]).toEqual(model('pinned', [version(1)])); // its pin survives
    expect(models[1]!.config).toBeNull();
    expect(models[1]!.configError).toMatch(/^config.json could not be reported: /);
    expect(models[1]!.versions).toEqual([version(1)]);
    expect(checked.repairs).toHaveLength(1);
  });

  it('marks a version whose report breaks the protocol invalid, with the reason, and keeps the others', () => {
    const long = 'n'.repeat(LIMITS.tensorName + 1);
    const raw = {
      type: 'repository',
      models: [model('m', [version(1), version(2, long), { version: 'three' } as unknown as VersionView])],
    };
    const checked = checkToHost(raw);
    expect(checked.ok).toBe(true);
    if (!checked.ok) return;
    const versions = (checked.message as { models: ModelView[] }).models[0]!.versions;
    expect(versions.map((v) => [v.version, v.state])).toEqual([
      [1, 'valid'],
      [2, 'invalid'],
    ]);
    expect(versions[1]!.reason).toMatch(/report of this version broke the protocol/);
    expect(versions[1]!.reason!.length).toBeLessThanOrEqual(LIMITS.reason);
    expect(checked.repairs).toEqual([expect.stringMatching(/version 2/), expect.stringMatching(/without a readable number/)]);
  });

  it('turns a single version verdict that cannot be reported into an invalid verdict, so none stays "validating"', () => {
    const raw = { type: 'version', model: 'm', version: version(7, 'n'.repeat(LIMITS.tensorName + 1)) };
    const checked = checkToHost(raw);
    expect(checked).toMatchObject({ ok: true, message: { type: 'version', model: 'm', version: { version: 7, state: 'invalid' } } });
  });

  it('accepts tensor names of real exported graphs (300 characters)', () => {
    const raw = { type: 'version', model: 'm', version: version(3, 'StatefulPartitionedCall/'.repeat(13)) };
    expect(checkToHost(raw)).toMatchObject({ ok: true, repairs: [], message: { version: { state: 'valid' } } });
  });

  it('refuses what names no model or version, and messages of unknown type', () => {
    expect(checkToHost({ type: 'version', model: '../etc', version: version(1) }).ok).toBe(false);
    expect(checkToHost({ type: 'nope' }).ok).toBe(false);
    expect(checkToHost('text').ok).toBe(false);
  });

  it('shortens long texts with a note instead of refusing them', () => {
    const cut = truncateForReport('y'.repeat(10_000), 100);
    expect(cut).toHaveLength(100);
    expect(cut).toMatch(/\.\.\. \(\d+ more characters\)$/);
    expect(truncateForReport('short', 100)).toBe('short');
  });
});
