import { DomainError } from '../infra/http/domain-error';

export class ApiKeyRequired extends DomainError {
  constructor() {
    super(
      'unprocessable',
      'API_KEY_REQUIRED',
      'Changing where a key is sent (baseUrl) requires entering the key again (apiKey).',
    );
  }
}

export class BaseUrlRefused extends DomainError {
  constructor(reason: string) {
    super('unprocessable', 'BASE_URL_REFUSED', `baseUrl cannot be used: ${reason}`);
  }
}

export class IntegrationExists extends DomainError {
  constructor() {
    super('conflict', 'INTEGRATION_EXISTS', 'This company already has a row for this serviceSku.');
  }
}

export class IntegrationInUse extends DomainError {
  constructor() {
    super(
      'conflict',
      'INTEGRATION_IN_USE',
      'Usage was billed under this SKU; disable it instead of deleting it.',
    );
  }
}

export class InheritedIntegration extends DomainError {
  constructor() {
    super(
      'forbidden',
      'CATALOG_READ_ONLY',
      'A row of a company above yours can be read, not changed; create your own row for the SKU instead.',
    );
  }
}

export class BudgetExhausted extends DomainError {
  constructor(companyName: string) {
    super(
      'payment_required',
      'BUDGET_EXHAUSTED',
      `The monthly budget of ${companyName} is spent; no new runs until it is raised or the month ends.`,
    );
  }
}
