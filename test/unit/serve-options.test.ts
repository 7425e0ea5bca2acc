import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { isLoopback, nonNegativeInt, portNumber, positiveInt } from '../../src-main/serve-options.js';

describe('serve options', () => {
  it('parses counts and ports within their ranges, and refuses the rest', () => {
    expect(nonNegativeInt('0')).toBe(0);
    expect(positiveInt('3')).toBe(3);
    expect(portNumber('0')).toBe(0);
    expect(portNumber('65535')).toBe(65_535);
    for (const [parse, value] of [
      [positiveInt, '0'],
      [positiveInt, '1.5'],
      [nonNegativeInt, '-1'],
      [nonNegativeInt, 'many'],
      [portNumber, '65536'],
      [portNumber, '-1'],
    ] as const)
      expect(() => parse(value)).toThrow(InvalidArgumentError);
  });

  it('tells loopback addresses from the rest', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) expect(isLoopback(address)).toBe(true);
    for (const address of ['0.0.0.0', '::', '192.168.1.5', '10.0.0.1', '127.0.0.1.example.com']) expect(isLoopback(address)).toBe(false);
  });
});
