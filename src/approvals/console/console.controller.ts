import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../../infra/http/public';
import { APPROVALS_PAGE, APPROVALS_SCRIPT } from './approvals-page';

/** Same-origin only: the page loads its one script and talks to this API, nothing else. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/** The approvals inbox page (public: it asks for a login, then uses the API with it). */
@ApiExcludeController()
@Public()
@Controller('console')
export class ConsoleController {
  @Get('approvals')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', CSP)
  @Header('cache-control', 'no-store')
  page(): string {
    return APPROVALS_PAGE;
  }

  @Get('approvals.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'no-store')
  script(): string {
    return APPROVALS_SCRIPT;
  }
}
