import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../src-main/repository/model-config.js';
import { FIELDS, fileFromForm, key, textOf, valueIn, type Settings } from '../../src-renderer/src/settings-file.js';

const settings = parseModelConfig({}).config!;
const draftOf = (s: Settings, changes: Record<string, string> = {}) => ({
  ...Object.fromEntries(FIELDS.map((f) => [key(f), textOf(valueIn(s, f.path))])),
  ...changes,
});

describe('the settings form as config.json', () => {
  it('writes nothing the operator did not change: the defaults stay defaults', () => {
    expect(fileFromForm(null, settings, draftOf(settings))).toEqual({});
  });

  it('writes the changed fields as numbers and names, keeping what the file set', () => {
    const file = { checkFinite: true, batching: { preferredBatchSizes: [8] } };
    const out = fileFromForm(file, settings, draftOf(settings, { 'batching.maxBatchSize': '64', 'queue.fullPolicy': 'wait' }));
    expect(out).toEqual({ checkFinite: true, batching: { preferredBatchSizes: [8], maxBatchSize: 64 }, queue: { fullPolicy: 'wait' } });
    expect(file).toEqual({ checkFinite: true, batching: { preferredBatchSizes: [8] } }); // the snapshot's copy is not changed
    expect(parseModelConfig(out).error).toBeNull();
  });

  it('writes a policy with its kind, drops a version from "latest" and an emptied optional field', () => {
    const file = { versionPolicy: { kind: 'pinned', version: 3, retain: 10 } };
    const pinned = parseModelConfig(file).config!;
    const out = fileFromForm(file, pinned, draftOf(pinned, { 'versionPolicy.kind': 'latest', 'versionPolicy.retain': '' }));
    expect(out).toEqual({ versionPolicy: { kind: 'latest' } }); // keepWarm was neither changed nor in the file
    expect(fileFromForm(null, settings, draftOf(settings, { 'versionPolicy.retain': '5' }))).toEqual({
      versionPolicy: { kind: 'latest', retain: 5 },
    });
  });

  it('passes what is not a number on as text, for the schema to refuse with its reason', () => {
    const out = fileFromForm(null, settings, draftOf(settings, { 'workers.count': 'many' }));
    expect(out).toEqual({ workers: { count: 'many' } });
    expect(parseModelConfig(out).error).toContain('workers.count');
  });
});
