import { byScopePerTurn, loaderPerTurn } from './batched';

describe('loaderPerTurn', () => {
  it('answers the calls of one turn with one load of their distinct keys', async () => {
    const loads: string[][] = [];
    const loader = loaderPerTurn(
      (keys: readonly string[]) => {
        loads.push([...keys]);
        return Promise.resolve(keys.map((key) => key.toUpperCase()));
      },
      (key) => key.toLowerCase(),
    );

    const answers = await Promise.all(['a', 'b', 'A', 'c', 'b'].map((key) => loader.load(key)));

    expect(loads).toEqual([['a', 'b', 'c']]);
    expect(answers).toEqual(['A', 'B', 'A', 'C', 'B']);
  });

  it('passes every call through when no keyOf says which are the same', async () => {
    const loads: object[][] = [];
    const loader = loaderPerTurn((keys: readonly object[]) => {
      loads.push([...keys]);
      return Promise.resolve(keys.map((_, index) => index));
    });

    expect(await Promise.all([{}, {}, {}].map((key) => loader.load(key)))).toEqual([0, 1, 2]);
    expect(loads[0]).toHaveLength(3);
  });

  it('with the tick window, sends the calls of one callback at its end, before the turn ends', async () => {
    const loads: string[][] = [];
    const load = (keys: readonly string[]) => {
      loads.push([...keys]);
      return Promise.resolve([...keys]);
    };
    const perTick = loaderPerTurn(load, undefined, 'tick');
    const perTurn = loaderPerTurn(load);
    // One I/O callback (as a Redis reply starting jobs): calls made outright and from
    // the promise jobs it starts; the next callback of the turn comes after.
    const answers = await new Promise<string[]>((resolve) => {
      setImmediate(() => {
        const calls = [
          perTick.load('a'),
          Promise.resolve().then(() => perTick.load('b')),
          Promise.resolve()
            .then(() => undefined)
            .then(() => perTick.load('c')),
          perTurn.load('x'),
        ];
        void Promise.all(calls).then(resolve);
      });
      setImmediate(() => loads.push(['next callback']));
    });
    expect(answers).toEqual(['a', 'b', 'c', 'x']);
    // The tick batch left before the next callback; the turn batch only after it.
    expect(loads).toEqual([['a', 'b', 'c'], ['next callback'], ['x']]);
  });

  it('loads again in the next turn: nothing is cached', async () => {
    let calls = 0;
    const loader = loaderPerTurn((keys: readonly string[]) => {
      calls += 1;
      return Promise.resolve(keys.map(() => calls));
    });

    expect(await loader.load('a')).toBe(1);
    expect(await loader.load('a')).toBe(2);
  });
});

describe('byScopePerTurn', () => {
  const tenant = (id: string) => ({ companyIds: [id] });

  it('runs one batch per scope and answers each call', async () => {
    const batches: string[][] = [];
    const loader = byScopePerTurn((scope, keys: { scope: { companyIds: string[] }; n: number }[]) => {
      batches.push(keys.map((key) => `${scope.companyIds[0]}:${key.n}`));
      return Promise.resolve(keys.map((key) => key.n * 10));
    });

    const answers = await Promise.all(
      [1, 2, 3, 4].map((n) => loader.load({ scope: tenant(n % 2 ? 'a' : 'b'), n })),
    );

    expect(answers).toEqual([10, 20, 30, 40]);
    expect(batches.sort()).toEqual([
      ['a:1', 'a:3'],
      ['b:2', 'b:4'],
    ]);
  });

  it('tries each call of a failed batch alone, so one bad call fails only itself', async () => {
    const loader = byScopePerTurn((_scope, keys: { scope: { companyIds: string[] }; n: number }[]) =>
      keys.some((key) => key.n === 13)
        ? Promise.reject(new Error('refused: 13'))
        : Promise.resolve(keys.map((key) => key.n)),
    );

    const answers = await Promise.allSettled([12, 13, 14].map((n) => loader.load({ scope: tenant('a'), n })));

    expect(
      answers.map((answer) => (answer.status === 'fulfilled' ? answer.value : String(answer.reason))),
    ).toEqual([12, 'Error: refused: 13', 14]);
  });
});
