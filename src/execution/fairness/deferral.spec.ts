import { deferralDelay, deferralsOf } from './deferral';

describe('deferralDelay', () => {
  const middle = () => 0.5;

  it('waits the base delay on the first deferral and doubles after each', () => {
    expect([0, 1, 2, 3].map((n) => deferralDelay(250, n, middle))).toEqual([250, 500, 1000, 2000]);
  });

  it('never waits more than 16 times the base', () => {
    expect(deferralDelay(250, 4, middle)).toBe(4000);
    expect(deferralDelay(250, 40, middle)).toBe(4000);
  });

  it('spreads jobs deferred together by ±25 %', () => {
    expect(deferralDelay(1000, 0, () => 0)).toBe(750);
    expect(deferralDelay(1000, 0, () => 0.999999)).toBe(1250);
  });
});

describe('deferralsOf', () => {
  it('counts moves to active that were neither attempts nor the current one', () => {
    // First time active: started 1, made 0.
    expect(deferralsOf({ attemptsStarted: 1, attemptsMade: 0 })).toBe(0);
    // Deferred twice, now active for the third time.
    expect(deferralsOf({ attemptsStarted: 3, attemptsMade: 0 })).toBe(2);
    // One real failed attempt, then deferred once.
    expect(deferralsOf({ attemptsStarted: 3, attemptsMade: 1 })).toBe(1);
  });
});
