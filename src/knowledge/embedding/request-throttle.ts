import pThrottle from 'p-throttle';

/** Runs `work` when the rate allows. */
export type Throttle = <T>(work: () => Promise<T>) => Promise<T>;

/**
 * Request starts per second to each embedding endpoint, for this process: one gate per
 * provider and base URL, shared by every company and job, so concurrent ingestion jobs and searches
 * together stay under the rate. Calls queue in order; each retry of a request queues
 * again. One start per `1000 / rate` ms (no bursts), which is what a provider's
 * per-second limit tolerates.
 */
export class RequestThrottles {
  private readonly gates = new Map<string, Throttle>();

  constructor(private readonly perSecond: number) {}

  for(endpoint: string): Throttle {
    let gate = this.gates.get(endpoint);
    if (!gate) {
      const throttled = pThrottle({ limit: 1, interval: 1000 / this.perSecond })(
        (work: () => Promise<unknown>) => work(),
      );
      gate = <T>(work: () => Promise<T>) => throttled(work) as Promise<T>;
      this.gates.set(endpoint, gate);
    }
    return gate;
  }
}
