import { loaderPerTurn } from './batched';

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
