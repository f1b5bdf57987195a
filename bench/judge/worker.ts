/** Worker thread: simulates chunks of runs on request; results go back as transferred buffers. */
import { parentPort } from 'node:worker_threads';
import { scenarios } from './model.ts';
import { simulateRun, slotsOf, SLOT_WIDTH } from './simulate.ts';

export interface Task {
  readonly scenario: number;
  readonly from: number;
  readonly to: number;
}
export interface TaskResult extends Task {
  readonly data: Float64Array;
}

const list = scenarios();
parentPort!.on('message', (task: Task) => {
  const s = list[task.scenario]!;
  const width = slotsOf(s).length * SLOT_WIDTH;
  const data = new Float64Array((task.to - task.from) * width);
  for (let run = task.from; run < task.to; run++) data.set(simulateRun(s, run), (run - task.from) * width);
  parentPort!.postMessage({ ...task, data } satisfies TaskResult, [data.buffer]);
});
