/** The worker pool's entry (workerPool.ts): one task in, the computed checksum out. */
import { computeIterated, type IteratedTask } from './iterated.js';

export default function run(task: IteratedTask): string {
  return computeIterated(task);
}
