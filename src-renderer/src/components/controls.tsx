/**
 * Controls that act on the engine: each shows pending, success and error, and a
 * destructive one asks for confirmation inline (keyboard-reachable, no modal).
 */
import { useState, type ReactNode } from 'react';
import type { CommandName, CommandReply } from '../../../src-preload/contract.js';
import type { CommandResult } from '../../../src-preload/wire.js';

type Phase =
  { kind: 'idle' } | { kind: 'confirm' } | { kind: 'pending' } | { kind: 'ok'; text: string } | { kind: 'error'; message: string };

export function CommandButton<C extends CommandName>(props: {
  label: string;
  run: () => Promise<CommandReply<C>>;
  /** Ask before running: the question to show. */
  confirm?: string;
  testId: string;
  disabled?: boolean;
  /** What to say on success, from the command's result (default: "done"). */
  describe?: (result: CommandResult<C>) => string;
}): ReactNode {
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const execute = async () => {
    setPhase({ kind: 'pending' });
    const reply = await props.run();
    setPhase(
      reply.ok
        ? { kind: 'ok', text: props.describe ? props.describe(reply.result) : 'done' }
        : { kind: 'error', message: `${reply.error.code}: ${reply.error.message}` },
    );
  };
  if (phase.kind === 'confirm') {
    return (
      <span className="confirm" role="group" aria-label={props.confirm}>
        <span>{props.confirm}</span>
        <button type="button" className="danger" data-testid={`${props.testId}-confirm`} onClick={() => void execute()} autoFocus>
          Yes
        </button>
        <button type="button" onClick={() => setPhase({ kind: 'idle' })}>
          Cancel
        </button>
      </span>
    );
  }
  return (
    <span className="command">
      <button
        type="button"
        data-testid={props.testId}
        disabled={props.disabled || phase.kind === 'pending'}
        aria-busy={phase.kind === 'pending'}
        onClick={() => (props.confirm ? setPhase({ kind: 'confirm' }) : void execute())}
      >
        {phase.kind === 'pending' ? `${props.label}…` : props.label}
      </button>
      {phase.kind === 'ok' && (
        <span className="ok" role="status" data-testid={`${props.testId}-result`}>
          {phase.text}
        </span>
      )}
      {phase.kind === 'error' && (
        <span className="error" role="alert" data-testid={`${props.testId}-result`}>
          {phase.message}
        </span>
      )}
    </span>
  );
}

/** A number input with an Apply button; the value is validated by the engine, errors are shown. */
export function NumberSetting(props: {
  label: string;
  value: number;
  min: number;
  max: number;
  testId: string;
  apply: (value: number) => Promise<CommandReply>;
}): ReactNode {
  const [draft, setDraft] = useState<string>('');
  return (
    <label className="setting">
      <span>{props.label}</span>
      <input
        type="number"
        min={props.min}
        max={props.max}
        placeholder={String(props.value)}
        value={draft}
        data-testid={`${props.testId}-input`}
        onChange={(e) => setDraft(e.target.value)}
      />
      <CommandButton label="Apply" testId={props.testId} disabled={draft === ''} run={() => props.apply(Number(draft))} />
    </label>
  );
}

export function Stat(props: { label: string; value: ReactNode; testId?: string; unit?: string; tone?: 'ok' | 'warn' | 'bad' }): ReactNode {
  return (
    <div className={`stat ${props.tone ?? ''}`}>
      <div className="stat-label">{props.label}</div>
      <div className="stat-value">
        <span data-testid={props.testId}>{props.value}</span>
        {props.unit && <span className="unit"> {props.unit}</span>}
      </div>
    </div>
  );
}
