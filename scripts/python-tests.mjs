#!/usr/bin/env node
/**
 * The tests run by clients no one here wrote (tritonclient, promtool), in the project's
 * virtual environment (.venv, made by .ci/run). Where it is missing they report
 * themselves skipped, with the reason, rather than pass unseen.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const python = '.venv/bin/python';
if (!existsSync(python)) {
  console.log('SKIPPED test/python: no project virtual environment (.venv); .ci/run makes it with tritonclient[http], numpy and pytest');
  process.exit(0);
}
const probe = spawnSync(python, ['-c', 'import tritonclient.http, numpy, pytest'], { encoding: 'utf8' });
if (probe.status !== 0) {
  console.log(`SKIPPED test/python: .venv lacks tritonclient[http], numpy or pytest (${probe.stderr.trim().split('\n').at(-1)})`);
  process.exit(0);
}
const run = spawnSync(python, ['-m', 'pytest', '-q', '-rs', 'test/python'], { stdio: 'inherit' });
process.exit(run.status ?? 1);
