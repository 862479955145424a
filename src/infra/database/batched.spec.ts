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
