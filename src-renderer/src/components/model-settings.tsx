/**
 * A model's settings as a form: batching, queue, workers and version policy, filled with
 * what is in force. Saving sends config.json's new contents; the host checks them with the
 * file's own schema, applies what the running model can take and writes the file, or
 * changes nothing and says what is wrong, shown here beside the form. Only the fields the
 * operator changed, and those the file set already, are written: a default stays a default.
 */
import { useState, type ReactNode } from 'react';
import { FIELDS, fileFromForm, key, textOf, valueIn, type ModelSnapshot } from '../settings-file.js';
import { transport } from '../transport/context.js';

export function ModelSettings({ model }: { model: ModelSnapshot }): ReactNode {
  const settings = model.settings;
  const initial = () =>
    Object.fromEntries(
      FIELDS.map((f) => {
        const value = settings ? valueIn(settings, f.path) : undefined;
        return [key(f), textOf(value)];
      }),
    );
  const [draft, setDraft] = useState<Record<string, string>>(initial);
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | null>(null);
  const [saving, setSaving] = useState(false);
  if (!settings)
    return <p className="muted">The settings form opens once config.json is valid again (fix the file, or remove it for the defaults).</p>;
  const save = async () => {
    setSaving(true);
    const reply = await transport().command('model.configure', { model: model.name, config: fileFromForm(model.file, settings, draft) });
    setSaving(false);
    if (reply.ok) {
      const { applied, atNextVersion } = reply.result;
      const now = applied.length > 0 ? `in force now: ${applied.join(', ')}` : 'the model is not loaded';
      const later = atNextVersion.length > 0 ? `; with the next version: ${atNextVersion.join(', ')}` : '';
      setOutcome({ ok: true, text: `saved config.json (${now}${later})` });
    } else setOutcome({ ok: false, text: reply.error.message });
  };
  return (
    <details className="settings-form" data-testid={`model-settings-${model.name}`}>
      <summary>Settings (config.json)</summary>
      <div className="form-grid">
        {FIELDS.map((f) => (
          <label key={key(f)} className="setting">
            {f.label}
            {f.choices ? (
              <select
                value={draft[key(f)]}
                onChange={(e) => setDraft({ ...draft, [key(f)]: e.target.value })}
                data-testid={`setting-${model.name}-${key(f)}`}
              >
                {f.choices.map((c) => (
                  <option key={c}>{c}</option>
                ))}
              </select>
            ) : (
              <input
                value={draft[key(f)]}
                inputMode="numeric"
                placeholder={f.optional ? 'not set' : ''}
                onChange={(e) => setDraft({ ...draft, [key(f)]: e.target.value })}
                data-testid={`setting-${model.name}-${key(f)}`}
              />
            )}
          </label>
        ))}
      </div>
      <div className="controls">
        <button type="button" disabled={saving} onClick={() => void save()} data-testid={`settings-save-${model.name}`}>
          Save
        </button>
        <button type="button" onClick={() => (setDraft(initial()), setOutcome(null))}>
          Reset
        </button>
      </div>
      {outcome && (
        <pre role="status" className={outcome.ok ? 'ok' : 'error'} data-testid={`settings-result-${model.name}`}>
          {outcome.text}
        </pre>
      )}
    </details>
  );
}
