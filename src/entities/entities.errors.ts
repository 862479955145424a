import { DomainError } from '../infra/http/domain-error';

export class InvalidHierarchy extends DomainError {
  constructor(detail: string) {
    super('unprocessable', 'INVALID_HIERARCHY', detail);
  }
}

export class EntityImmutable extends DomainError {
  constructor(status: string) {
    super('conflict', 'ENTITY_IMMUTABLE', `A ${status} entity cannot change; create a new version instead.`);
  }
}

export class InvalidTransition extends DomainError {
  constructor(from: string, to: string) {
    super('conflict', 'INVALID_STATUS_TRANSITION', `An entity cannot go from ${from} to ${to}.`);
  }
}

export class EntityVersionExists extends DomainError {
  constructor() {
    super('conflict', 'ENTITY_VERSION_EXISTS', 'An entity with this name and version exists in the company.');
  }
}

export class VersionNotGreater extends DomainError {
  constructor(latest: string) {
    super(
      'unprocessable',
      'VERSION_NOT_GREATER',
      `A new version must be greater than the latest (${latest}).`,
    );
  }
}

export class EntityHasChildren extends DomainError {
  constructor() {
    super('conflict', 'ENTITY_HAS_CHILDREN', 'Archive or move its children first.');
  }
}

export class CatalogReadOnly extends DomainError {
  constructor() {
    super(
      'forbidden',
      'CATALOG_READ_ONLY',
      'A shared catalog entity can be read and run, not changed, from below.',
    );
  }
}

export class UnknownTool extends DomainError {
  constructor(pointer: string) {
    super(
      'unprocessable',
      'UNKNOWN_TOOL',
      `The tool at ${pointer} is neither a child alias nor a visible entity.`,
    );
  }
}
