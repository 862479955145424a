import { statementNames } from './statement-names';

describe('statementNames', () => {
  it('names a text the same every time, and different texts differently', () => {
    const nameOf = statementNames();
    const select = nameOf({ sql: 'SELECT 1' });
    expect(select).toMatch(/^hb_[\w-]{24}$/);
    expect(nameOf({ sql: 'SELECT 1' })).toBe(select);
    expect(nameOf({ sql: 'SELECT 2' })).not.toBe(select);
  });

  it('leaves texts beyond its bound unnamed, and keeps the names it gave', () => {
    const nameOf = statementNames(2);
    const first = nameOf({ sql: 'SELECT 1' });
    nameOf({ sql: 'SELECT 2' });
    expect(nameOf({ sql: 'SELECT 3' })).toBeUndefined();
    expect(nameOf({ sql: 'SELECT 1' })).toBe(first);
  });
});
