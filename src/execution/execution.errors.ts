import { DomainError } from '../infra/http/domain-error';

export class EntityNotRunnable extends DomainError {
  constructor(status: string) {
    super(
      'conflict',
      'ENTITY_NOT_RUNNABLE',
      `A ${status} entity cannot be run${status === 'DRAFT' ? ' (except with test: true)' : ''}.`,
    );
  }
}

export class IdempotencyConflict extends DomainError {
  constructor() {
    super('conflict', 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with another request body.');
  }
}

export class RunTerminal extends DomainError {
  constructor(status: string) {
    super('conflict', 'RUN_TERMINAL', `The run has already ended (${status}).`);
  }
}

export class RunNotFinished extends DomainError {
  constructor(status: string) {
    super('conflict', 'RUN_NOT_FINISHED', `Only an ended run can be retried; this one is ${status}.`);
  }
}

/** Why a run failed: a stable code for machines, a sentence for people. */
export class RunFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The entity row a run's request was checked against changed before the run was
 *  written (insertRootRuns): the request is decided again on the row as it is now.
 *  Internal: RunsService handles it, it never reaches a client. */
export class EntityChanged extends Error {
  constructor() {
    super('the entity changed since it was read');
  }
}
