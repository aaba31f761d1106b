/** "drift: -1 step (device clock ~30 s behind)" */
export function describeDrift(driftSteps: number): string {
  if (driftSteps === 0) return 'drift: none (device clock in step)';
  const seconds = Math.abs(driftSteps) * 30;
  const plural = Math.abs(driftSteps) === 1 ? 'step' : 'steps';
  return `drift: ${driftSteps > 0 ? '+' : ''}${driftSteps} ${plural} (device clock ~${seconds} s ${driftSteps < 0 ? 'behind' : 'ahead'})`;
}
