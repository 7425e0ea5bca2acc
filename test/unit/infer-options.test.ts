import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src-main/engine/errors.js';
import { checkInferOptions, MAX_TIMEOUT_MS } from '../../src-main/engine/request.js';

describe('infer options', () => {
  it('takes what is in range', () => {
    for (const ok of [{}, { timeoutMs: 1 }, { timeoutMs: 0.5 }, { timeoutMs: MAX_TIMEOUT_MS }, { clientId: 'actor-7', checkFinite: true }])
      expect(() => checkInferOptions(ok)).not.toThrow();
    expect(() => checkInferOptions({ signal: new AbortController().signal })).not.toThrow();
  });

  it('refuses non-finite, non-positive, huge or mistyped options with an InvalidInputError naming the option', () => {
    const bad: [unknown, RegExp][] = [
      [{ timeoutMs: Number.NaN }, /timeoutMs .* got NaN/],
      [{ timeoutMs: Infinity }, /timeoutMs/],
      [{ timeoutMs: -5 }, /timeoutMs/],
      [{ timeoutMs: 0 }, /timeoutMs/],
      [{ timeoutMs: MAX_TIMEOUT_MS + 1 }, /timeoutMs/],
      [{ timeoutMs: '100' }, /timeoutMs .* got string/],
      [{ clientId: 7 }, /clientId/],
      [{ clientId: 'x'.repeat(257) }, /clientId/],
      [{ checkFinite: 'yes' }, /checkFinite/],
      [{ signal: { aborted: false } }, /signal/],
      [null, /options must be an object/],
    ];
    for (const [options, message] of bad) {
      let error: unknown;
      try {
        checkInferOptions(options as never);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(options)).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).kind).toBe('option');
      expect((error as Error).message).toMatch(message);
    }
  });
});
