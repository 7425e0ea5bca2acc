/**
 * Whether a served model is batched and why, with the probe's evidence: an operator who
 * sees a time-major model served one request per run should see which output differed.
 */
import type { ReactNode } from 'react';
import type { DashboardSnapshot } from '../../../src-preload/wire.js';

type Decision = DashboardSnapshot['engine']['models'][number]['batching']['decision'];

function evidenceText(evidence: NonNullable<Decision['evidence']>): string {
  if (evidence.error) return `probe failed: ${evidence.error}`;
  const verdict = evidence.rowsIndependent ? 'rows independent' : 'rows interact';
  if (evidence.exact) return `${evidence.rows} probe rows; ${verdict}, bit for bit`;
  const diff = evidence.maxAbsDiff === null ? 'unbounded' : evidence.maxAbsDiff.toExponential(2);
  return `${evidence.rows} probe rows; ${verdict}, max |diff| ${diff}`;
}

export function BatchingDecisionLine({ model, decision }: { model: string; decision: Decision }): ReactNode {
  return (
    <p data-testid={`batching-decision-${model}`}>
      Batching ({decision.mode}): <strong className={decision.batched ? 'ok' : 'warn'}>{decision.batched ? 'batched' : 'unbatched'}</strong>{' '}
      — {decision.reason}
      {decision.evidence && <span className="muted"> · {evidenceText(decision.evidence)}</span>}
    </p>
  );
}

/** The decision of each served model, for a snapshot without a repository (a single file). */
export function ServedBatching({ models }: { models: DashboardSnapshot['engine']['models'] }): ReactNode {
  return (
    <>
      {models.map((m) => (
        <BatchingDecisionLine key={m.name} model={m.name} decision={m.batching.decision} />
      ))}
    </>
  );
}
