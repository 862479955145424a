const DAY_MS = 86_400_000;

/** The instant before which rows kept for `days` may go, or null when `days` is 0
 *  (kept forever). */
export function retentionCutoff(days: number, now: Date): Date | null {
  return days > 0 ? new Date(now.getTime() - days * DAY_MS) : null;
}
