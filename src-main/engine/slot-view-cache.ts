/**
 * Typed views of an arena's slots, made once per arena rather than per batch (versions
 * sharing an arena share a plan, so the views fit them all).
 */
import { slotViews, type ArenaPool } from './arena.js';
import type { TensorData } from './dtypes.js';
import type { RowPlan } from './signature.js';

export interface SlotViews {
  readonly inputs: TensorData[][];
  readonly outputs: TensorData[][];
}

export class SlotViewCache {
  private readonly views = new WeakMap<ArenaPool, SlotViews>();

  of(arena: ArenaPool, plan: RowPlan): SlotViews {
    let views = this.views.get(arena);
    if (!views) {
      const inputs: TensorData[][] = [];
      const outputs: TensorData[][] = [];
      for (let slot = 0; slot < arena.layout.slots; slot++) {
        inputs.push(slotViews(arena.sab, arena.layout, slot, plan.inputs, arena.layout.inputs));
        outputs.push(slotViews(arena.sab, arena.layout, slot, plan.outputs, arena.layout.outputs));
      }
      views = { inputs, outputs };
      this.views.set(arena, views);
    }
    return views;
  }
}
