import { RequestThrottles } from './request-throttle';

describe('embedding request throttles', () => {
  it('starts one request per 1000 / rate ms for an endpoint, in call order', async () => {
    const throttles = new RequestThrottles(20); // 50 ms apart
    const starts: number[] = [];
    const began = performance.now();
    const order = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        throttles.for('openai https://a')(() => {
          starts.push(performance.now() - began);
          return Promise.resolve(i);
        }),
      ),
    );
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    // Timers never fire early: the sixth start waits for five intervals.
    expect(starts.at(-1)!).toBeGreaterThanOrEqual(5 * 50 - 5);
  });

  it('keeps endpoints apart: one provider being busy does not slow another', async () => {
    const throttles = new RequestThrottles(2); // 500 ms apart
    const a = throttles.for('voyage ');
    await a(() => Promise.resolve());
    const began = performance.now();
    await throttles.for('openai https://b')(() => Promise.resolve());
    expect(performance.now() - began).toBeLessThan(100);
    expect(throttles.for('voyage ')).toBe(a);
  });
});
