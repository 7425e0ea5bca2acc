/** Where other processes reach the engine: the inference API and metrics, the token, a client snippet, and each protocol's traffic. */
import { useState, type ReactNode } from 'react';
import { count, ms } from '../../../src-preload/format.js';
import type { EndpointsSnapshot, ProtocolTrafficSnapshot } from '../../../src-preload/wire.js';
import { ClientRegions } from '../components/client-regions.js';
import { TOKEN_VARIABLE, tritonclientSnippet, type SnippetProtocol } from '../python-snippet.js';
import { useDashboard } from '../store.js';

const PROTOCOL_LABEL: Record<ProtocolTrafficSnapshot['protocol'], string> = { http: 'HTTP/REST', grpc: 'gRPC' };

/** Copies `text`; where the clipboard is refused (an unfocused page, a policy), says so: the text is on screen to select. */
function CopyButton(props: { text: string; label: string; testId: string }): ReactNode {
  const [outcome, setOutcome] = useState<'copied' | 'refused' | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.text);
      setOutcome('copied');
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      setOutcome('refused');
    }
  };
  return (
    <span className="command">
      <button type="button" data-testid={props.testId} onClick={() => void copy()}>
        {props.label}
      </button>
      {outcome && (
        <span className={outcome === 'copied' ? 'ok' : 'error'} role="status" data-testid={`${props.testId}-result`}>
          {outcome === 'copied' ? 'copied' : 'the clipboard refused: select the text and copy it'}
        </span>
      )}
    </span>
  );
}

/** The token's last four characters, the rest masked: enough to tell two tokens apart, not to use one. */
function masked(token: string): string {
  return `${'•'.repeat(Math.max(0, Math.min(token.length - 4, 20)))}${token.slice(-4)}`;
}

function Addresses({ endpoints }: { endpoints: EndpointsSnapshot }): ReactNode {
  const [shown, setShown] = useState(false);
  return (
    <section className="panel">
      <h2>Addresses</h2>
      <table>
        <tbody>
          <tr>
            <th>Inference API (Open Inference Protocol, HTTP/REST)</th>
            <td className="mono" data-testid="endpoint-http">
              {endpoints.inferenceHttp ?? 'off (--no-inference-api)'}
            </td>
            <td>{endpoints.inferenceHttp && <CopyButton text={endpoints.inferenceHttp} label="Copy" testId="copy-http" />}</td>
          </tr>
          <tr>
            <th>Inference API (Open Inference Protocol, gRPC)</th>
            <td className="mono" data-testid="endpoint-grpc">
              {endpoints.inferenceGrpc ?? 'off (--no-grpc)'}
            </td>
            <td>{endpoints.inferenceGrpc && <CopyButton text={endpoints.inferenceGrpc} label="Copy" testId="copy-grpc" />}</td>
          </tr>
          <tr>
            <th>Prometheus metrics</th>
            <td className="mono" data-testid="endpoint-metrics">
              {endpoints.metrics ?? 'off (--no-metrics)'}
              {endpoints.metrics && <span className="muted"> ({endpoints.metricsPublic ? 'public' : 'token required'})</span>}
            </td>
            <td>{endpoints.metrics && <CopyButton text={endpoints.metrics} label="Copy" testId="copy-metrics" />}</td>
          </tr>
          <tr>
            <th>Token (Authorization: Bearer)</th>
            <td className="mono" data-testid="endpoint-token">
              {shown ? endpoints.token : masked(endpoints.token)}
            </td>
            <td>
              <span className="controls">
                <button type="button" data-testid="token-toggle" aria-pressed={shown} onClick={() => setShown(!shown)}>
                  {shown ? 'Hide' : 'Show'}
                </button>
                <CopyButton text={endpoints.token} label="Copy token" testId="copy-token" />
              </span>
            </td>
          </tr>
        </tbody>
      </table>
      <p className="muted">
        Every endpoint but /v2/health/live and /v2/health/ready takes the token. For a token that outlives a restart, start the server with
        --token-file or the {TOKEN_VARIABLE} environment variable.
      </p>
    </section>
  );
}

function PythonClient({ endpoints }: { endpoints: EndpointsSnapshot }): ReactNode {
  const [chosen, setChosen] = useState<string | null>(null);
  const [wanted, setWanted] = useState<SnippetProtocol>('http');
  const addresses: Partial<Record<SnippetProtocol, string>> = {};
  if (endpoints.inferenceHttp) addresses.http = endpoints.inferenceHttp;
  if (endpoints.inferenceGrpc) addresses.grpc = endpoints.inferenceGrpc;
  const protocol: SnippetProtocol | undefined = addresses[wanted] ? wanted : addresses.http ? 'http' : addresses.grpc ? 'grpc' : undefined;
  if (protocol === undefined) return null;
  const model = endpoints.models.find((m) => m.name === chosen) ?? endpoints.models[0];
  const snippet = model && tritonclientSnippet(protocol, addresses[protocol]!, model);
  return (
    <section className="panel">
      <h2>Call it from Python</h2>
      {model === undefined ? (
        <p className="empty">No model is served yet: the snippet appears once one is.</p>
      ) : (
        <>
          <div className="controls">
            {endpoints.models.length > 1 && (
              <label className="setting">
                Model
                <select value={model.name} onChange={(e) => setChosen(e.target.value)} data-testid="snippet-model">
                  {endpoints.models.map((m) => (
                    <option key={m.name}>{m.name}</option>
                  ))}
                </select>
              </label>
            )}
            {addresses.http && addresses.grpc && (
              <span className="setting" role="group" aria-label="Protocol">
                {(['http', 'grpc'] as const).map((p) => (
                  <button key={p} type="button" aria-pressed={protocol === p} onClick={() => setWanted(p)} data-testid={`snippet-${p}`}>
                    {p === 'http' ? 'HTTP' : 'gRPC'}
                  </button>
                ))}
              </span>
            )}
            <span className="muted">
              With tritonclient; set {TOKEN_VARIABLE} to the token first (export {TOKEN_VARIABLE}=…).
            </span>
          </div>
          <pre className="snippet" data-testid="python-snippet">
            {snippet}
          </pre>
          <CopyButton text={snippet ?? ''} label="Copy snippet" testId="copy-snippet" />
        </>
      )}
    </section>
  );
}

/** Non-success answers, by code, most frequent first. */
function errorsByCode(traffic: ProtocolTrafficSnapshot): string {
  const errors = Object.entries(traffic.byStatus).filter(([status]) => !/^(2\d\d|OK)$/.test(status));
  if (errors.length === 0) return 'none';
  return errors
    .sort((a, b) => b[1] - a[1])
    .map(([status, n]) => `${status}: ${count(n)}`)
    .join(', ');
}

function Traffic({ endpoints }: { endpoints: EndpointsSnapshot }): ReactNode {
  return (
    <section className="panel">
      <h2>Traffic</h2>
      {endpoints.traffic.length === 0 ? (
        <p className="empty">No protocol server is running.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Protocol</th>
              <th>Requests/s</th>
              <th>Requests</th>
              <th>Inference requests</th>
              <th>Errors</th>
              <th>Errors by code</th>
              <th>Inference p50</th>
              <th>Inference p99</th>
              <th>Open connections</th>
              <th>Open streams</th>
            </tr>
          </thead>
          <tbody>
            {endpoints.traffic.map((t) => (
              <tr key={t.protocol} data-testid={`traffic-${t.protocol}`}>
                <td>{PROTOCOL_LABEL[t.protocol]}</td>
                <td data-testid={`traffic-rate-${t.protocol}`}>{count(t.requestsPerSecond)}</td>
                <td data-testid={`traffic-requests-${t.protocol}`}>{count(t.requests)}</td>
                <td data-testid={`traffic-infer-${t.protocol}`}>{count(t.inferRequests)}</td>
                <td data-testid={`traffic-errors-${t.protocol}`}>{count(t.errors)}</td>
                <td data-testid={`traffic-codes-${t.protocol}`}>{errorsByCode(t)}</td>
                <td>{t.inferLatencyMs.count === 0 ? '—' : `${ms(t.inferLatencyMs.p50Ms)} ms`}</td>
                <td>{t.inferLatencyMs.count === 0 ? '—' : `${ms(t.inferLatencyMs.p99Ms)} ms`}</td>
                <td data-testid={`traffic-open-${t.protocol}`}>{t.openConnections ?? '—'}</td>
                <td data-testid={`traffic-streams-${t.protocol}`}>{t.protocol === 'grpc' ? t.openStreams : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="muted">Rates and latencies over the last 10 s; counts since the start.</p>
    </section>
  );
}

export function Endpoints(): ReactNode {
  const endpoints = useDashboard((s) => s.snapshot!.endpoints);
  if (!endpoints)
    return (
      <p className="empty">
        This engine serves no inference API or metrics (started with --no-inference-api and --no-metrics): only this dashboard reaches it.
      </p>
    );
  return (
    <>
      <Addresses endpoints={endpoints} />
      <PythonClient endpoints={endpoints} />
      <Traffic endpoints={endpoints} />
      <ClientRegions pool={endpoints.sharedMemory} />
    </>
  );
}
