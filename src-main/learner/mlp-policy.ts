/**
 * The policy MLP evaluated in plain JavaScript, with the parameter layout `buildMlp`
 * writes into ONNX (W row-major [in, out], then b, layer by layer; ReLU between layers),
 * so the learner can score candidates without a session and publish the one it keeps.
 */
export class MlpPolicy {
  private readonly activations: Float64Array[];

  constructor(private readonly layers: readonly number[]) {
    this.activations = layers.map((width) => new Float64Array(width));
  }

  /** Greedy action (argmax of the logits) for one observation. */
  act(params: Float32Array, observation: ArrayLike<number>): number {
    const a = this.activations;
    for (let i = 0; i < this.layers[0]!; i++) a[0]![i] = observation[i]!;
    let offset = 0;
    for (let l = 0; l + 1 < this.layers.length; l++) {
      const fanIn = this.layers[l]!;
      const fanOut = this.layers[l + 1]!;
      const input = a[l]!;
      const output = a[l + 1]!;
      const last = l + 2 === this.layers.length;
      for (let j = 0; j < fanOut; j++) {
        let sum = params[offset + fanIn * fanOut + j]!;
        for (let i = 0; i < fanIn; i++) sum += input[i]! * params[offset + i * fanOut + j]!;
        output[j] = last || sum > 0 ? sum : 0;
      }
      offset += fanIn * fanOut + fanOut;
    }
    const logits = a[a.length - 1]!;
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
    return best;
  }
}
