/**
 * Add a model from the Models page: drop an .onnx file (or choose one) and name the model;
 * an existing name gets the file as its next version, a new one becomes version 1. The
 * version then appears below as every version does: pending, validating, then valid or
 * invalid with its reason. In the desktop app the main process asks for the file in a
 * dialog, so the page only names the model.
 */
import { useState, type DragEvent, type ReactNode } from 'react';
import { bytes } from '../../../src-preload/format.js';
import { MODEL_NAME_PATTERN } from '../../../src-preload/limits.js';
import { nameFromFile } from '../model-name.js';
import { transport } from '../transport/context.js';

type Outcome = { kind: 'idle' } | { kind: 'pending' } | { kind: 'ok'; text: string } | { kind: 'error'; text: string };

export function AddModel({ models }: { models: readonly string[] }): ReactNode {
  const desktop = transport().kind === 'ipc';
  const [name, setName] = useState('');
  const [file, setFile] = useState<File | undefined>();
  const [dragging, setDragging] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>({ kind: 'idle' });
  const nameOk = MODEL_NAME_PATTERN.test(name);

  const choose = (chosen: File | undefined) => {
    setFile(chosen);
    setOutcome({ kind: 'idle' });
    if (chosen && name === '') setName(nameFromFile(chosen.name));
  };
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    choose(event.dataTransfer.files[0]);
  };
  const add = async () => {
    setOutcome({ kind: 'pending' });
    const reply = await transport().addModel(name, file);
    if (reply.ok) {
      const { model, version, bytes: size } = reply.result;
      setOutcome({ kind: 'ok', text: `added ${model} v${version} (${bytes(size)}): it is validated next` });
      setFile(undefined);
    } else setOutcome({ kind: 'error', text: `${reply.error.code}: ${reply.error.message}` });
  };

  return (
    <section className="panel" data-testid="add-model">
      <h2>Add a model</h2>
      <div className="controls">
        <label className="setting">
          Model
          <input
            value={name}
            list="known-models"
            placeholder="name"
            aria-invalid={name !== '' && !nameOk}
            onChange={(e) => setName(e.target.value)}
            data-testid="add-model-name"
          />
          <datalist id="known-models">
            {models.map((m) => (
              <option key={m} value={m} />
            ))}
          </datalist>
        </label>
        {!desktop && (
          <div
            className={`drop-zone${dragging ? ' dragging' : ''}`}
            onDragOver={(e) => {
              e.preventDefault();
              setDragging(true);
            }}
            onDragLeave={() => setDragging(false)}
            onDrop={onDrop}
            data-testid="add-model-drop"
          >
            {file ? `${file.name} (${bytes(file.size)})` : 'Drop an .onnx file here, or '}
            <label className="file-pick">
              {file ? 'choose another' : 'choose one'}
              <input type="file" accept=".onnx" onChange={(e) => choose(e.target.files?.[0])} data-testid="add-model-file" />
            </label>
          </div>
        )}
        <button
          type="button"
          disabled={!nameOk || (!desktop && !file) || outcome.kind === 'pending'}
          onClick={() => void add()}
          data-testid="add-model-submit"
        >
          {desktop ? 'Choose a file and add' : 'Add'}
        </button>
      </div>
      <p className="muted">
        {name !== '' && !nameOk
          ? 'A name is 1 to 64 of A-Z a-z 0-9 . _ -, starting with a letter or digit.'
          : models.includes(name)
            ? `The file becomes the next version of ${name}.`
            : name
              ? `A new model, ${name}, with the file as version 1.`
              : 'Name an existing model to add a version to it, or a new one.'}
      </p>
      {outcome.kind !== 'idle' && (
        <p
          role="status"
          className={outcome.kind === 'error' ? 'error' : outcome.kind === 'ok' ? 'ok' : 'muted'}
          data-testid="add-model-result"
        >
          {outcome.kind === 'pending' ? 'adding…' : outcome.text}
        </p>
      )}
    </section>
  );
}
